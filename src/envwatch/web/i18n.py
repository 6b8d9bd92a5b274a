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
    "kind_exceedance": {"zh": "今日超标", "en": "exceedances today"},
    "kind_early_warning": {"zh": "今日超标预警", "en": "early warnings today"},
    "kind_falsification": {"zh": "今日疑似造假", "en": "suspected falsification today"},
    "kind_electricity": {"zh": "今日用电异常", "en": "electricity anomalies today"},
    "kind_transmission": {"zh": "今日传输异常", "en": "transmission faults today"},
    "findings_today_hint": {"zh": "按数据时间统计今日（北京时间）发现的问题，包括已处置的。",
                            "en": "Findings whose data time is today (China Standard Time), "
                                  "handled or not."},
    "connection": {"zh": "联网情况", "en": "Connection"},
    "points": {"zh": "监测点", "en": "Points"},
    "online": {"zh": "在线", "en": "Online"},
    "offline": {"zh": "离线", "en": "Offline"},
    "never_connected": {"zh": "从未联网", "en": "Never connected"},
    "connection_rate": {"zh": "联网率", "en": "Connection rate"},
    "total": {"zh": "合计", "en": "Total"},
    "newest_findings": {"zh": "今日最新超标与疑似造假",
                        "en": "Today's newest exceedances and suspected falsification"},
    "no_findings_today": {"zh": "今日暂无超标或疑似造假。规则引擎在数据到达后几秒内判断。",
                          "en": "No exceedance or suspected falsification today. The rules "
                                "judge data within seconds of its arrival."},
    "newest_alerts": {"zh": "最新未办结预警", "en": "Newest open alerts"},
    "data_time": {"zh": "数据时间", "en": "Data time"},
    "pollutant": {"zh": "监测因子", "en": "Factor"},
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
