"""County judgement (每周分析研判): weekly snapshots of scored indicators,
ranks and their changes, the 挂牌督办 listing rule, accountability interviews,
eco-compensation and the weekly report. ``core`` and ``weeks`` are pure; the
store, scheduler, report files, API and CLI are the edges."""
