"""Table question answering tasks: a procedural generator and loaders for table-QA benchmarks.

:class:`TableTaskGenerator` draws seeded tasks over realistic tables in several domains, with
answers computed by both pandas and duckdb SQL and checked to agree; :func:`load_tasks` reads
WikiTableQuestions, WikiSQL, TableBench, Spider-style SQLite directories and turngym's own JSONL.
Answers are checked with :func:`turngym.rewards.answer.verify_answer`.
"""

from turngym.tasks.table.domains import DOMAINS, SIZES, TableSet
from turngym.tasks.table.generator import TableTaskGenerator, TemplateUnusable
from turngym.tasks.table.gold import GoldError, answers_agree, format_answer, run_pandas, run_sql
from turngym.tasks.table.loaders import DatasetFormatError, load_tasks
from turngym.tasks.table.task import TableTask
from turngym.tasks.table.templates import TEMPLATES, Question, Template, template, templates_for

__all__ = [
    "DOMAINS",
    "SIZES",
    "TEMPLATES",
    "DatasetFormatError",
    "GoldError",
    "Question",
    "TableSet",
    "TableTask",
    "TableTaskGenerator",
    "Template",
    "TemplateUnusable",
    "answers_agree",
    "format_answer",
    "load_tasks",
    "run_pandas",
    "run_sql",
    "template",
    "templates_for",
]
