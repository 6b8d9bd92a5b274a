"""Workflows as data: a transition table read from a TOML file and checked
at load; ``Workflow.apply`` is the one place that says whether a role may take
an action in a state (pure). The alert loop (``workflow.toml``) and the
rectification of problems (``rectification/workflow.toml``) both load through
``load_workflow`` and refuse with the same ``TransitionError``."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envwatch.errors import ConfigError, PeerError

DEFAULT_WORKFLOW_FILE = Path(__file__).with_name("workflow.toml")

ROLES_ZH = {
    "city_admin": "市局管理员",
    "city_supervisor": "市局监管人员",
    "county_officer": "区县监管人员",
    "enforcement_officer": "执法人员",
    "enterprise_user": "企业用户",
    "contractor": "运维单位",
    "viewer": "只读用户",
    "system": "系统",
}


class TransitionError(PeerError):
    """An action the workflow does not allow: names the state, the action and the role."""


@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the state stays
    roles: frozenset[str]
    needs_outcome: bool = False
    needs_target: bool = False
    needs_evidence: bool = False


@dataclass(frozen=True)
class Workflow:
    version: str
    states: Mapping[str, str]  # state -> Chinese name
    actions: Mapping[str, str]
    outcomes: Mapping[str, str]
    transitions: tuple[Transition, ...]
    target_en: str = "the alert to merge into"
    target_zh: str = "合并到的预警"
    """What ``needs_target`` asks for, in the refusal (the table's ``[target]``)."""

    def transition(self, state: str, action: str, role: str) -> Transition:
        """The transition ``role`` takes with ``action`` from ``state``, or
        TransitionError saying which of the three forbids it."""
        state_zh = self.states.get(state, state)
        action_zh = self.actions.get(action, action)
        role_zh = ROLES_ZH.get(role, role)
        if action not in self.actions:
            raise TransitionError(
                "unknown_action",
                f"unknown action {action!r} (known: {', '.join(self.actions)})",
                f"未知操作“{action}”",
            )
        for transition in self.transitions:
            if transition.action == action and state in transition.sources:
                if role not in transition.roles:
                    raise TransitionError(
                        "role_not_allowed",
                        f"in state {state!r} the role {role!r} may not {action!r}",
                        f"在“{state_zh}”状态下，{role_zh}不能执行“{action_zh}”",
                    )
                return transition
        raise TransitionError(
            "action_not_allowed",
            f"{action!r} is not possible in state {state!r} (role {role!r})",
            f"“{state_zh}”状态下不能执行“{action_zh}”（{role_zh}）",
        )

    def apply(
        self,
        state: str,
        action: str,
        role: str,
        *,
        outcome: str | None = None,
        target: int | None = None,
        evidence: int = 0,
    ) -> str:
        """The state after ``role`` takes ``action`` in ``state`` (``evidence``:
        how many files back the action)."""
        transition = self.transition(state, action, role)
        if transition.needs_outcome and outcome not in self.outcomes:
            raise TransitionError(
                "outcome_required",
                f"{action!r} needs an outcome: one of {', '.join(self.outcomes)}",
                f"“{self.actions[action]}”须注明处置方式：{'、'.join(self.outcomes.values())}",
            )
        if transition.needs_target and target is None:
            raise TransitionError(
                "target_required",
                f"{action!r} needs {self.target_en}",
                f"“{self.actions[action]}”须指明{self.target_zh}",
            )
        if transition.needs_evidence and evidence <= 0:
            raise TransitionError(
                "evidence_required",
                f"{action!r} needs evidence: attach at least one file",
                f"“{self.actions[action]}”须附佐证材料",
            )
        return transition.target or state

    def allowed(self, state: str, role: str) -> list[str]:
        """The actions ``role`` may take in ``state`` (for buttons)."""
        return [t.action for t in self.transitions if state in t.sources and role in t.roles]


def load_workflow(path: Path | None = None) -> Workflow:
    """The workflow in ``path`` (default: envwatch's own), checked."""
    path = path or DEFAULT_WORKFLOW_FILE
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(path, str(error), f"无法读取：{error}") from None

    def fail(where: str, problem: str) -> ConfigError:
        return ConfigError(path, f"{where}: {problem}", f"{where}：{problem}")

    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise fail("version", "a version string is required")
    states = _names(data, "states", fail)
    actions = _names(data, "actions", fail)
    # A table without outcomes (no action needs one) may leave them out.
    outcomes = _names(data, "outcomes", fail) if "outcomes" in data else {}
    transitions = []
    for index, entry in enumerate(data.get("transition", [])):
        where = f"transition[{index}]"
        action = entry.get("action")
        if action not in actions:
            raise fail(f"{where}.action", f"unknown action {action!r}")
        sources = entry.get("from", [])
        if not sources or any(s not in states for s in sources):
            raise fail(f"{where}.from", f"unknown or no states: {sources!r}")
        target = entry.get("to")
        if target is not None and target not in states:
            raise fail(f"{where}.to", f"unknown state {target!r}")
        roles = entry.get("roles", [])
        if not roles or any(r not in ROLES_ZH for r in roles):
            raise fail(f"{where}.roles", f"unknown or no roles: {roles!r}")
        unknown = set(entry) - {"action", "from", "to", "roles", *NEEDS}
        if unknown:
            raise fail(where, f"unknown keys {sorted(unknown)}")
        transitions.append(
            Transition(
                action,
                frozenset(sources),
                target,
                frozenset(roles),
                bool(entry.get("needs_outcome", False)),
                bool(entry.get("needs_target", False)),
                bool(entry.get("needs_evidence", False)),
            )
        )
        if transitions[-1].needs_outcome and not outcomes:
            raise fail(f"{where}.needs_outcome", "the table has no [outcomes]")
    seen: set[tuple[str, str]] = set()
    for transition in transitions:
        for source in transition.sources:
            if (source, transition.action) in seen:
                raise fail("transition", f"{transition.action!r} from {source!r} given twice")
            seen.add((source, transition.action))
    target = data.get("target", {})
    if not isinstance(target, dict) or set(target) - {"en", "zh"}:
        raise fail("target", "a table with the keys en and zh")
    names = {key: str(value) for key, value in target.items()}
    return Workflow(version, states, actions, outcomes, tuple(transitions),
                    names.get("en", Workflow.target_en),
                    names.get("zh", Workflow.target_zh))  # fmt: skip


NEEDS = ("needs_outcome", "needs_target", "needs_evidence")
"""What a transition may require besides the role: an outcome, a target, evidence."""


def _names(data: Mapping[str, Any], table: str, fail: Any) -> dict[str, str]:
    names = data.get(table)
    if not isinstance(names, dict) or not names:
        raise fail(table, "a table of names is required")
    return {str(key): str(value) for key, value in names.items()}
