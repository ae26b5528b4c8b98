"""The fixed texts of the user interface in English and Chinese.

Rule texts (message, why, advice) carry their own translations in the YAML files; this
module holds only what the program itself prints: headings, labels, window descriptions.
"""

from __future__ import annotations

from typing import Any

LANGS: tuple[str, ...] = ("en", "zh")

_TEXTS: dict[str, dict[str, str]] = {
    "run": {"en": "Run", "zh": "运行"},
    "algo": {"en": "algorithm", "zh": "算法"},
    "algo_unknown": {"en": "unknown", "zh": "未知"},
    "env_unknown": {"en": "unknown (give --env)", "zh": "未知（可用 --env 指定）"},
    "steps": {"en": "timesteps", "zh": "时间步"},
    "sources": {"en": "sources", "zh": "数据来源"},
    "no_problems": {"en": "no problems found", "zh": "未发现问题"},
    "no_problems_no_reference": {
        "en": "no problems found (the returns were not compared with a reference: sb3doctor has none "
        "for {env})",
        "zh": "未发现问题（回报未与参考值比较：sb3doctor 没有 {env} 的参考值）",
    },
    "no_problems_env_unknown": {
        "en": "no problems found (the returns were not compared with a reference: env unknown, give --env)",
        "zh": "未发现问题（回报未与参考值比较：环境未知，请用 --env 指定）",
    },
    "too_little_data": {
        "en": "too early to judge: {updates} training updates and {episodes} episodes logged (the checks "
        "need {min_updates} updates or {min_episodes} episodes); no finding does not mean healthy",
        "zh": "现在判断为时过早：只记录了 {updates} 次训练更新和 {episodes} 个回合"
        "（检查至少需要 {min_updates} 次更新或 {min_episodes} 个回合）；没有诊断结果不代表运行正常",
    },
    "too_little_data_tables": {
        "en": "too early to judge: {updates} training updates and {episodes} tables of episode returns "
        "logged (the checks need {min_updates} updates or {min_episodes} tables); no finding does not "
        "mean healthy",
        "zh": "现在判断为时过早：只记录了 {updates} 次训练更新和 {episodes} 个回合回报表"
        "（检查至少需要 {min_updates} 次更新或 {min_episodes} 个表）；没有诊断结果不代表运行正常",
    },
    "findings": {"en": "findings", "zh": "诊断结果"},
    "evidence": {"en": "evidence", "zh": "证据"},
    "advice": {"en": "advice", "zh": "建议"},
    "observed": {"en": "observed", "zh": "观测值"},
    "threshold": {"en": "threshold", "zh": "阈值"},
    "at_steps": {"en": "steps", "zh": "步数"},
    "metrics": {"en": "metrics", "zh": "指标"},
    "metric": {"en": "metric", "zh": "指标"},
    "points": {"en": "points", "zh": "点数"},
    "first": {"en": "first", "zh": "首值"},
    "last": {"en": "last", "zh": "末值"},
    "min": {"en": "min", "zh": "最小"},
    "max": {"en": "max", "zh": "最大"},
    "trend": {"en": "trend", "zh": "趋势"},
    "summary": {"en": "summary", "zh": "汇总"},
    "runs": {"en": "runs", "zh": "个运行"},
    "info": {"en": "info", "zh": "提示"},
    "warning": {"en": "warning", "zh": "警告"},
    "error": {"en": "error", "zh": "错误"},
    "not_in_logs": {"en": "current value not in the logs", "zh": "日志中没有当前值"},
    "assumed_default": {"en": "SB3 default assumed, not in the logs", "zh": "日志中没有，按 SB3 默认值"},
    "all_runs": {"en": "all runs", "zh": "所有运行"},
    "unset": {"en": "unset (leave it out)", "zh": "不设置（删除该参数）"},
    "because_of": {"en": "because of", "zh": "由此引起"},
    "sb3_default": {"en": "SB3 default", "zh": "SB3 默认值"},
    "zoo_value": {"en": "rl-zoo's tuned value for {env}", "zh": "rl-zoo 为 {env} 调好的值"},
    "reference_value": {
        "en": "the value known to work (rl-zoo's for the env, else SB3's default)",
        "zh": "已知可行的值（rl-zoo 为该环境调好的值，否则为 SB3 默认值）",
    },
    "reference_bound": {
        "en": "the value known to work instead, when more than 3x off it",
        "zh": "偏离已知可行值 3 倍以上时改用该值",
    },
    "zoo_also": {"en": "rl-zoo {env} uses {value}", "zh": "rl-zoo 的 {env} 使用 {value}"},
    "env": {"en": "env", "zh": "环境"},
    "why": {"en": "Why", "zh": "原因"},
    "false_alarms": {"en": "When it is a false alarm", "zh": "何时是误报"},
    "condition": {"en": "Condition", "zh": "条件"},
    "escalate": {"en": "Escalates to", "zh": "升级为"},
    "examples": {"en": "Examples", "zh": "示例"},
    "applies_to": {"en": "Applies to", "zh": "适用算法"},
    "requires": {"en": "Requires", "zh": "前提"},
    "category": {"en": "Category", "zh": "类别"},
    "severity": {"en": "Severity", "zh": "严重程度"},
    "message": {"en": "Message", "zh": "消息"},
    "id": {"en": "id", "zh": "编号"},
    "description": {"en": "description", "zh": "说明"},
    "algorithms": {"en": "algorithms", "zh": "算法"},
    "fires": {"en": "fires", "zh": "触发"},
    "quiet": {"en": "quiet", "zh": "不触发"},
    "file": {"en": "File", "zh": "文件"},
}


def t(key: str, lang: str = "en") -> str:
    """The UI text ``key`` in ``lang`` (English when no translation exists)."""
    entry = _TEXTS[key]
    return entry.get(lang) or entry["en"]


def describe_window(window: Any, lang: str = "en", n: int | None = None) -> str:
    """A window spec in words: ``{last: 20}`` -> ``last 20 points`` / ``最近 20 个点``.

    :param n: the points the window really held: fewer than a ``last``/``first`` window asks
        for (a young run) are counted as they are, so the text never claims points that
        were not there
    """
    if window is None or window == "all":
        return "所有点" if lang == "zh" else "all points"
    key, arg = next(iter(window.items()))
    zh = lang == "zh"
    if key in ("last", "first") and n and 0 < n < arg:
        arg = n
    if key == "last":
        return f"最近 {arg} 个点" if zh else f"last {arg} points"
    if key == "first":
        return f"最初 {arg} 个点" if zh else f"first {arg} points"
    pct = f"{float(arg) * 100:.0f}%"
    if key == "last_frac":
        return f"最后 {pct} 的步数" if zh else f"last {pct} of the steps"
    return f"从 {pct} 的步数起" if zh else f"from {pct} of the steps on"
