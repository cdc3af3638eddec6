"""Chinese news text for tests: a BYD story (GBK-encodable), written for techbrief's tests."""

from __future__ import annotations

__all__ = ["BYD_ZH", "BYD_ZH_HEADING", "BYD_ZH_TITLE", "SHORT_ZH"]

BYD_ZH_TITLE = "比亚迪发布五款新车 闪充平台五分钟增加四百公里续航"

BYD_ZH = [
    "比亚迪周三在上海车展上发布了五款新的电动汽车，在价格战持续之际进一步扩大了其在中国市场"
    "对特斯拉的领先优势。",
    "这家总部位于深圳的汽车制造商表示，其新的闪充平台可在五分钟内增加四百公里的续航里程，"
    "分析人士称这是电池行业的一个里程碑。",
    "公司高管在发布会上说，新平台将首先用于高端车型，明年起逐步推广到更多价格较低的车型，"
    "并计划在全国建设四千座超级充电站。",
    "市场研究机构的数据显示，今年第一季度比亚迪在中国新能源汽车市场的份额超过三成，"
    "出口量同比增长一倍以上，主要销往东南亚和欧洲。",
]

BYD_ZH_HEADING = "海外市场"

SHORT_ZH = "比亚迪发布了新车。"
