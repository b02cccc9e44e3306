"""The sentences of a plan's explanations, in Chinese and English (zh, en), like the
optimizer's ``REASON_MESSAGES``. Placeholders are filled by :mod:`dispatch.explain`:
names for technicians and orders, skill labels, HH:MM for times."""

from __future__ import annotations

SENTENCES: dict[str, tuple[str, str]] = {
    # why this technician
    "under_way": (
        "工单已在进行中，由{technician}继续完成。",
        "Work is under way: {technician} carries on with it.",
    ),
    "pinned": ("调度员已将工单指派给{technician}。", "A dispatcher assigned the order to {technician}."),
    "has_skills": (
        "具备所需技能：{skills}（在班{technicians}人中有{qualified}人具备）。",
        "Has the skills it needs: {skills} ({qualified} of {technicians} technicians on shift have them).",
    ),
    "no_skills_needed": ("工单不需要特殊技能。", "The order needs no special skill."),
    "nearest": (
        "是最近的有资质人员（出发点距现场{distance_km}公里）。",
        "The nearest qualified technician ({distance_km} km from where they start).",
    ),
    "not_nearest": (
        "按距离排第{rank}（{distance_km}公里）；更近的{nearer}（{nearer_km}公里）未选用，整体路线更优。",
        "Ranks {rank} by distance ({distance_km} km); {nearer} is nearer ({nearer_km} km) but the day "
        "as a whole works out better this way.",
    ),
    "nearer_workload": (
        "{technician}已排{stops}单，现场工作{work_min}分钟（班次的{utilisation_pct}%）。",
        "{technician} already has {stops} stops, {work_min} min on site ({utilisation_pct}% of the shift).",
    ),
    "in_district": ("负责该片区（{district}）。", "Covers the district ({district})."),
    "outside_district": (
        "来自{home_district}片区，跨区支援{district}。",
        "Based in {home_district}, helping out in {district}.",
    ),
    "workload": (
        "当天共{stops}单，现场工作{work_min}分钟，占{shift_min}分钟班次的{utilisation_pct}%。",
        "{stops} stops that day, {work_min} min on site: {utilisation_pct}% of a {shift_min}-min shift.",
    ),
    # why this time
    "window": ("预约时段{start}–{end}，计划{at}开始。", "Appointment window {start}–{end}; starts at {at}."),
    "no_window": ("没有预约时段，按路线顺路安排。", "No appointment window: placed where the route passes."),
    "deadline_kept": (
        "修复时限{deadline}，{at}开始，时间充裕。",
        "Restore deadline {deadline}; starting at {at} leaves a margin.",
    ),
    "deadline_at_risk": (
        "修复时限{deadline}，{at}开始，临近时限。",
        "Restore deadline {deadline}; starting at {at} is close to it.",
    ),
    "deadline_breached": (
        "修复时限{deadline}，{at}才能开始，将超时{late_min}分钟。",
        "Restore deadline {deadline}; it cannot start before {at}: {late_min} min late.",
    ),
    "route_order_first": (
        "路线第{sequence}站（共{stops}站），从出发点行驶{travel_min}分钟，{arrival}到达。",
        "Stop {sequence} of {stops}: {travel_min} min from the start, arriving at {arrival}.",
    ),
    "route_order": (
        "路线第{sequence}站（共{stops}站），在{after}之后，行驶{travel_min}分钟，{arrival}到达。",
        "Stop {sequence} of {stops}, after {after}: {travel_min} min of travel, arriving at {arrival}.",
    ),
    "waits_for_window": (
        "提前到达，等待{wait_min}分钟到{start}预约开始。",
        "Arrives early and waits {wait_min} min for the window at {start}.",
    ),
    # what it costs
    "cost": (
        "给路线增加{extra_km}公里、{extra_min}分钟路程，现场{on_site_min}分钟。",
        "Adds {extra_km} km and {extra_min} min of travel to the route; {on_site_min} min on site.",
    ),
    # why it was left out
    "nobody_has_skill": (
        "在班的{technicians}名人员中没有人具备技能：{skills}。",
        "None of the {technicians} technicians on shift has: {skills}.",
    ),
    "outside_areas": (
        "有资质的{skilled}人的服务区域（硬性限制）都不含{district}。",
        "The {skilled} technicians with the skills are all limited to areas without {district}.",
    ),
    "nobody_has_all_skills": (
        "没有人同时具备全部所需技能：{skills}。",
        "Nobody on shift has all of: {skills}.",
    ),
    "window_passed": ("预约时段{start}–{end}已过。", "The appointment window {start}–{end} has passed."),
    "displaced": ("为插入紧急故障移出了路线。", "Moved out of the route to make room for an urgent fault."),
    "pinned_on_shift": (
        "指定的{technician}无法在班次内完成这张工单。",
        "{technician}, to whom it is assigned, cannot fit it into the shift.",
    ),
    "pinned_off_shift": (
        "指定的{technician}今天不在班。",
        "{technician}, to whom it is assigned, is not on shift today.",
    ),
    "qualified_full": (
        "{qualified}名有资质人员当天都已排满。",
        "All {qualified} qualified technicians' days are full.",
    ),
    "window_unreachable_by": (
        "预约时段{window_start}–{window_end}赶不上：有资质的{technician}（{distance_km}公里）"
        "{after_text}最早{earliest}才能到。",
        "Window {window_start}–{window_end} cannot be reached: {technician} ({distance_km} km), "
        "qualified, could start at {earliest} at the earliest, {after_text}.",
    ),
    "shift_too_short": (
        "{technician}（{distance_km}公里）{after_text}{earliest}可开始，但完工回家要到{finish}，"
        "超过班次结束{shift_end}。",
        "{technician} ({distance_km} km) could start at {earliest}, {after_text}, but would be home "
        "only at {finish}, after the shift ends at {shift_end}.",
    ),
    "route_has_no_gap": (
        "{technician}（{distance_km}公里）{after_text}{earliest}可到，但其路线（{stops}站）"
        "插入后会使后面的工单误约或超出班次。",
        "{technician} ({distance_km} km) could be there at {earliest}, {after_text}, but their route "
        "({stops} stops) has no room: a later stop would miss its window or the shift end.",
    ),
    "from_start": ("从出发点出发", "leaving from the start"),
    "after_stop": ("完成{after}后出发", "after finishing {after}"),
}
