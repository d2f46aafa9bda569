"""What a process needs to answer messages: validated flows, catalogs and an engine.

The web app, the worker and `bot chat` all build their engine here, so they behave the
same. `Runtime.reload` swaps in a new engine only when the new flows validate: a broken
edit keeps the working set running and reports its problems. Flow texts may show the
service's own values (`{conversation_hours}`...: bot.flow.loader.SERVICE_VALUES), which the
runtime puts beside the staff values, so that the privacy notice always says what the
service's settings actually do.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from bot.core.engine import Engine
from bot.flow import FlowError, FlowSet, Problem, read_flows
from bot.flow.loader import SERVICE_VALUES
from bot.i18n.translator import CatalogTranslator
from bot.settings import CHECKOUT, Settings, service_values

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

    @classmethod
    def load(
        cls,
        flows_dir: str | Path | None = None,
        locales_dir: str | Path | None = None,
        service: Mapping[str, str] | None = None,
    ):
        """Load flows and catalogs; raises FlowError with every problem when flows are broken.

        Without arguments: this checkout's flows/ and locales/, and the values texts show
        (`bot.settings.service_values`) from the default settings; `from_settings` gives the
        ones a process is configured with.
        """
        fdir = Path(flows_dir) if flows_dir else DEFAULT_FLOWS
        ldir = Path(locales_dir) if locales_dir else DEFAULT_LOCALES
        values = dict(service) if service is not None else service_values(Settings())
        flowset, problems = read_flows(fdir)
        if flowset is None:
            raise FlowError(problems)
        flowset = with_service_values(flowset, values)
        engine = Engine(flowset, make_translator(flowset, ldir))
        return cls(engine, fdir, ldir, problems, values)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Load the flows and catalogs the settings name, with the values they set."""
        return cls.load(settings.flows_path, settings.locales_path, service_values(settings))

    def reload(self) -> list[Problem]:
        """Swap in freshly loaded flows if they validate; return the problems found."""
        with _reload_lock:
            flowset, problems = read_flows(self.flows_dir)
            if flowset is None:
                return problems
            flowset = with_service_values(flowset, self.service)
            self.engine = Engine(flowset, make_translator(flowset, self.locales_dir))
            self.warnings = problems
            return problems


_reload_lock = threading.Lock()
