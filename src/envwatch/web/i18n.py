"""The pages' words, Chinese first and English second (pure)."""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "platform": {"zh": "智慧环境监管平台", "en": "Smart environmental supervision"},
    "login": {"zh": "登录", "en": "Log in"},
    "logout": {"zh": "退出", "en": "Log out"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "dashboard": {"zh": "一张图", "en": "Overview"},
    "alerts": {"zh": "预警处置", "en": "Alerts"},
    "open_alerts": {"zh": "未办结预警", "en": "Open alerts"},
    "county": {"zh": "区县", "en": "County"},
    "enterprise": {"zh": "企业", "en": "Enterprise"},
    "level": {"zh": "级别", "en": "Level"},
    "state": {"zh": "状态", "en": "State"},
    "rule": {"zh": "规则", "en": "Rule"},
    "opened_at": {"zh": "发生时间", "en": "Opened"},
    "deadline": {"zh": "期限", "en": "Deadline"},
    "overdue": {"zh": "逾期", "en": "Overdue"},
    "no_alerts": {"zh": "暂无预警。数据正常时这里为空；新的超标或异常会在几秒内出现。",
                  "en": "No alerts. New exceedances and anomalies appear here within seconds."},
    "explanation": {"zh": "说明", "en": "Explanation"},
    "evidence": {"zh": "证据", "en": "Evidence"},
    "history": {"zh": "处置记录", "en": "History"},
    "actions": {"zh": "可执行操作", "en": "Actions"},
    "note": {"zh": "备注", "en": "Note"},
    "outcome": {"zh": "处置方式", "en": "Outcome"},
    "none_allowed": {"zh": "当前状态下您没有可执行的操作。", "en": "No action is yours now."},
    "not_found": {"zh": "没有找到，或您无权查看。", "en": "Not found, or not yours to see."},
    "bad_login": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "locked": {"zh": "登录失败次数过多，账号已暂时锁定，请稍后再试",
               "en": "Too many failed logins: the account is locked for a while"},
    "cases": {"zh": "执法案件", "en": "Enforcement cases"},
    "positive_list": {"zh": "监督执法正面清单企业（优先非现场检查）",
                      "en": "On the enforcement positive list (off-site checks first)"},
    "enterprises": {"zh": "企业与点位", "en": "Enterprises"},
    "coverage": {"zh": "应装尽装", "en": "Coverage"},
    "registry": {"zh": "基础名录", "en": "Registry"},
    # -- words of the dashboard and the alert pages (pages.py) --
    # -- words of the enterprise and monitoring-point pages (pages_points.py) --
    # -- words of the registry and coverage pages (pages_registry.py) --
    # -- words of the case pages (pages_cases.py) --
}  # fmt: skip


def language(request: Request) -> str:
    """``?lang=`` first, then the ``lang`` cookie, then Chinese."""
    asked = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    return asked if asked in LANGUAGES else "zh"


def translator(lang: str) -> dict[str, str]:
    return {key: words[lang] for key, words in TEXT.items()}
