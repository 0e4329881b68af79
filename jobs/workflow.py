"""The workflow framework: a workflow is an ordered list of named steps plus a cleanup.

Apps define workflows and register them; the job engine knows them only through this registry:

    @register
    class CreateSample(Workflow):
        name = "create_sample"
        display_name = "Create sample"
        size = JobSize.SMALL

        @step("Copy files", "Copy the reads into the sample folder.")
        def copy_files(self, ctx: JobContext) -> None: ...

        def cleanup(self, ctx: JobContext) -> None: ...   # failure, cancellation, crash: undo half-done work

Steps run in the order they are defined. Each receives the `JobContext`, which reports progress within the step
(`ctx.progress(done, total)`), runs external tools under supervision (`ctx.run([...])`), and knows the reserved
`ctx.proc`/`ctx.mem` to pass to those tools.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.conf import settings

from jobs.constants import JobSize

if TYPE_CHECKING:
    from jobs.runner import JobContext

# A step method: `def copy_files(self, ctx: JobContext) -> None`.
StepMethod = TypeVar("StepMethod", bound=Callable[..., Any])


@dataclass(frozen=True)
class Step:
    """One step: its function name (Virtool's `stage`), display name and description."""

    name: str
    display_name: str
    description: str
    function: Callable[[Workflow, JobContext], None]


def step(display_name: str, description: str = "") -> Callable[[StepMethod], StepMethod]:
    """Mark a workflow method as a step."""

    def decorate(function: StepMethod) -> StepMethod:
        # The mark is an attribute of the function itself, which `Callable` does not declare.
        function.__dict__["__virtool_step__"] = (display_name, description)
        return function

    return decorate


class Workflow:
    """Base class of every workflow; subclasses set the class attributes and define steps."""

    name: ClassVar[str]
    display_name: ClassVar[str] = ""
    size: ClassVar[str] = JobSize.SMALL
    # Seconds before the job ends in `timeout` (Celery's soft time limit); None: the instance default.
    time_limit: ClassVar[int | None] = None
    # Analysis workflows are what `POST /api/samples/{id}/analyses` may start; `aliases` are other names a client
    # may ask for (Virtool's 2019 `pathoscope` for `pathoscope_bowtie`).
    analysis: ClassVar[bool] = False
    aliases: ClassVar[tuple[str, ...]] = ()
    # Work Virtool runs as a task, not a job (reference import and clone, HMM install): `/api/tasks` shows it,
    # Virtool's job lists (`/api/jobs`, `/api/jobs/v2`) leave it out.
    task: ClassVar[bool] = False

    @classmethod
    def steps(cls) -> list[Step]:
        """The steps in definition order."""
        found: list[Step] = []
        seen: set[str] = set()
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                marker = getattr(value, "__virtool_step__", None)
                if marker and attribute not in seen:
                    seen.add(attribute)
                    found.append(Step(attribute, marker[0], marker[1], value))
        return found

    def cleanup(self, ctx: JobContext) -> None:
        """Undo partial work after an error, a cancellation, a timeout or a crash. Must be idempotent."""
        return


_REGISTRY: dict[str, type[Workflow]] = {}


def register(workflow: type[Workflow]) -> type[Workflow]:
    """Make a workflow runnable as a job (use as a class decorator)."""
    if not getattr(workflow, "name", None):
        raise TypeError(f"{workflow.__name__} has no name")
    if not workflow.steps():
        raise TypeError(f"{workflow.__name__} has no steps")
    _REGISTRY[workflow.name] = workflow
    return workflow


def load_extra_workflows() -> None:
    """Import the modules named in VIRTOOL_WORKFLOW_MODULES (site-specific workflows)."""
    for module in settings.VIRTOOL_WORKFLOW_MODULES:
        importlib.import_module(module)


def get_workflow(name: str) -> type[Workflow]:
    """The registered workflow called `name`; KeyError when there is none."""
    if name not in _REGISTRY:
        load_extra_workflows()
    return _REGISTRY[name]


def analysis_workflows() -> dict[str, str]:
    """Every name an analysis can be started with (names and aliases), mapped to its workflow's name."""
    load_extra_workflows()
    names: dict[str, str] = {}
    for workflow in _REGISTRY.values():
        if workflow.analysis:
            names.update({alias: workflow.name for alias in workflow.aliases})
            names[workflow.name] = workflow.name
    return names


def workflow_labels() -> dict[str, str]:
    """How people read each registered workflow's name (and its aliases): its display name."""
    load_extra_workflows()
    labels: dict[str, str] = {}
    for workflow in _REGISTRY.values():
        if workflow.display_name:
            labels.update(dict.fromkeys((workflow.name, *workflow.aliases), workflow.display_name))
    return labels


def task_workflow_names() -> list[str]:
    """Names of the registered workflows Virtool calls tasks."""
    load_extra_workflows()
    return sorted(name for name, workflow in _REGISTRY.items() if workflow.task)


def workflow_names() -> list[str]:
    """Names of every registered workflow."""
    load_extra_workflows()
    return sorted(_REGISTRY)
