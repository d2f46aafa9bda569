"""What a process needs to answer messages: validated flows, catalogs and an engine.

The web app, the worker and `bot chat` all build their engine here, so they behave the
same. `Runtime.reload` swaps in a new engine only when the new flows validate: a broken
edit keeps the working set running and reports its problems. Given a var directory, every
set that validates is kept as the last good set (bot.core.snapshot), and a process that
starts while the flows on disk are broken serves that set instead of refusing to start;
`disk_problems` then holds the errors of the files on disk, for logs and `/readyz`.

Flow texts may show the service's own values (`{conversation_hours}`...:
bot.flow.loader.SERVICE_VALUES), which the runtime puts beside the staff values, so that
the privacy notice always says what the service's settings actually do.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from bot.core.engine import Engine
from bot.core.snapshot import Snapshot, changed_files, flow_files, version
from bot.flow import FlowError, FlowSet, Problem, read_flows
from bot.flow.config import unfilled_staff
from bot.flow.loader import SERVICE_VALUES, STAFF_FILE
from bot.flow.model import Hours
from bot.flow.problems import ERROR
from bot.i18n.hours import render as render_hours
from bot.i18n.translator import CatalogTranslator, to_digits
from bot.settings import CHECKOUT, ConfigError, Settings, service_values

log = logging.getLogger(__name__)

ROOT = CHECKOUT
DEFAULT_FLOWS = ROOT / "flows"
DEFAULT_LOCALES = ROOT / "locales"


def make_translator(flows: FlowSet, locales_dir: Path) -> CatalogTranslator:
    """The catalog translator (English and CLDR names where a catalog is missing)."""
    return CatalogTranslator(
        locales_dir,
        flows.settings.languages,
        default_language=flows.settings.default_language,
        numbering_system=flows.settings.numbering_system,
        numbers={k: v for k, v in flows.staff.items() if k in SERVICE_VALUES},
    )


def with_staff_languages(flows: FlowSet, translator: CatalogTranslator) -> FlowSet:
    """The flow set with its staff values written out in each language.

    Opening hours are rendered with Babel (day names, time format, the language's digits);
    a value given per language uses that language's text, else the default language's.
    """
    if not flows.staff_values:
        return flows
    default = flows.settings.default_language
    langs = {}
    for lang in flows.settings.languages:
        values = dict(flows.staff)
        for name, value in flows.staff_values.items():
            if isinstance(value, Hours):
                text = render_hours(value, lang)
                values[name] = to_digits(text, translator.numbering.get(lang, "latn"))
            elif isinstance(value, Mapping):
                values[name] = value.get(lang) or value.get(default) or values[name]
        langs[lang] = MappingProxyType(values)
    return dataclasses.replace(flows, staff_langs=MappingProxyType(langs))


def with_service_values(flows: FlowSet, values: Mapping[str, str]) -> FlowSet:
    """The flow set with the service's read-only values beside the staff values.

    The loader refuses a staff value of the same name, so neither hides the other.
    """
    missing = sorted(set(SERVICE_VALUES) - set(values))
    if missing:
        raise ValueError(f"service values missing: {', '.join(missing)}")
    staff = {**flows.staff, **{k: str(values[k]) for k in SERVICE_VALUES}}
    return dataclasses.replace(flows, staff=MappingProxyType(staff))


@dataclass
class Runtime:
    """The current engine and where it came from."""

    engine: Engine
    flows_dir: Path
    locales_dir: Path
    warnings: list[Problem]
    service: Mapping[str, str] = field(default_factory=dict)
    snapshot: Snapshot | None = None
    disk_problems: list[Problem] = field(default_factory=list)
    """Errors of the flows on disk that are not being served (empty when disk = served)."""
    last_good: str = ""
    """When the last good set being served was saved; "" when serving the files on disk."""
    files: dict[str, str] = field(default_factory=dict)
    """The texts of the flow files being served (to say what a reload changed)."""

    @classmethod
    def load(
        cls,
        flows_dir: str | Path | None = None,
        locales_dir: str | Path | None = None,
        service: Mapping[str, str] | None = None,
        var_dir: str | Path | None = None,
    ):
        """Load flows and catalogs; raises FlowError with every problem when flows are broken.

        Without arguments: this checkout's flows/ and locales/, and the values texts show
        (`bot.settings.service_values`) from the default settings; `from_settings` gives the
        ones a process is configured with. With `var_dir`, a set that validates is kept as
        the last good set, and broken flows on disk load that set instead of raising (the
        errors go to `disk_problems`); FlowError only when there is no good set at all.
        """
        fdir = Path(flows_dir) if flows_dir else DEFAULT_FLOWS
        ldir = Path(locales_dir) if locales_dir else DEFAULT_LOCALES
        values = dict(service) if service is not None else service_values(Settings())
        snapshot = Snapshot.for_folder(var_dir, fdir) if var_dir else None
        files = flow_files(fdir)
        flowset, problems = read_flows(fdir)
        disk_problems: list[Problem] = []
        last_good = ""
        if flowset is None:
            folder = snapshot.unpack() if snapshot else None
            kept, kept_problems = read_flows(folder) if folder else (None, [])
            if kept is None:
                raise FlowError(problems)
            disk_problems = [p for p in problems if p.severity == ERROR]
            flowset, problems, last_good = kept, kept_problems, snapshot.saved_at()
            files = flow_files(folder)
        elif snapshot is not None:
            _keep(snapshot, fdir, files)
        flowset = with_service_values(flowset, values)
        translator = make_translator(flowset, ldir)
        engine = Engine(with_staff_languages(flowset, translator), translator)
        return cls(engine, fdir, ldir, problems, values, snapshot, disk_problems, last_good, files)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Load the flows and catalogs the settings name, with the values they set."""
        return cls.load(
            settings.flows_path,
            settings.locales_path,
            service_values(settings),
            var_dir=settings.var_path,
        )

    def reload(self) -> list[Problem]:
        """Swap in freshly loaded flows if they validate; return the problems found.

        A set with errors changes nothing that is served; its errors stay in `disk_problems`
        until a set validates.
        """
        with _reload_lock:
            files = flow_files(self.flows_dir)
            flowset, problems = read_flows(self.flows_dir)
            if flowset is None:
                self.disk_problems = [p for p in problems if p.severity == ERROR]
                return problems
            flowset = with_service_values(flowset, self.service)
            translator = make_translator(flowset, self.locales_dir)
            self.engine = Engine(with_staff_languages(flowset, translator), translator)
            self.warnings = problems
            self.disk_problems = []
            self.last_good = ""
            self.files = files
            if self.snapshot is not None:
                _keep(self.snapshot, self.flows_dir, files)
            return problems

    @property
    def version(self) -> str:
        """The version of the set being served (bot.core.snapshot.version of its files)."""
        return version(self.files)

    def changes(self) -> list[str]:
        """The flow files on disk that differ from the set being served."""
        return changed_files(self.files, flow_files(self.flows_dir))


def _keep(snapshot: Snapshot, flows_dir: Path, files: dict[str, str]) -> None:
    """Save `files` as the last good set, unless the folder changed while it was checked."""
    if files and flow_files(flows_dir) == files:
        try:
            snapshot.save(files)
        except OSError as exc:  # a read-only var directory: serving works, the fallback not
            log.warning("could not keep the last good flows in %s (%s)", snapshot.root, exc)


_reload_lock = threading.Lock()


def refuse_placeholders(settings: Settings) -> None:
    """BOT_ENV=production: ConfigError naming every staff value still a placeholder."""
    if not settings.production:
        return
    found = unfilled_staff(Path(settings.flows_path) / STAFF_FILE)
    if found:
        raise ConfigError(
            f"BOT_ENV=production refuses to start while {len(found)} staff value(s) are "
            "placeholders that people would read; fill them in (each line says where and "
            "what), run `bot flows validate`, then start again:\n  " + "\n  ".join(found)
        )
