"""The acupuncture points the session form offers, by WHO standard code, with what pregnancy forbids.

``pregnancy``: ``"forbidden"`` points are not needled at any stage of pregnancy (strong uterine or downward action in
the classical texts); ``"first_trimester"`` points (lower abdomen, lumbosacral) are not needled in the first trimester.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    code: str
    name: str
    region: str  # face or body
    pregnancy: str | None = None

    @property
    def label(self):
        return f"{self.code} {self.name}"


FACE = [
    Point("GV24", "Shenting", "face"),
    Point("EX-HN3", "Yintang", "face"),
    Point("EX-HN5", "Taiyang", "face"),
    Point("BL2", "Zanzhu", "face"),
    Point("GB1", "Tongziliao", "face"),
    Point("GB14", "Yangbai", "face"),
    Point("TE23", "Sizhukong", "face"),
    Point("ST1", "Chengqi", "face"),
    Point("ST2", "Sibai", "face"),
    Point("ST3", "Juliao", "face"),
    Point("ST4", "Dicang", "face"),
    Point("ST5", "Daying", "face"),
    Point("ST6", "Jiache", "face"),
    Point("ST7", "Xiaguan", "face"),
    Point("LI20", "Yingxiang", "face"),
    Point("SI18", "Quanliao", "face"),
    Point("SI19", "Tinggong", "face"),
    Point("GV26", "Shuigou", "face"),
    Point("CV24", "Chengjiang", "face"),
]

BODY = [
    Point("GV20", "Baihui", "body"),
    Point("LI4", "Hegu", "body", "forbidden"),
    Point("LI11", "Quchi", "body"),
    Point("LU7", "Lieque", "body"),
    Point("PC6", "Neiguan", "body"),
    Point("HT7", "Shenmen", "body"),
    Point("ST36", "Zusanli", "body"),
    Point("SP6", "Sanyinjiao", "body", "forbidden"),
    Point("SP9", "Yinlingquan", "body"),
    Point("SP10", "Xuehai", "body"),
    Point("LR3", "Taichong", "body"),
    Point("KI3", "Taixi", "body"),
    Point("GB21", "Jianjing", "body", "forbidden"),
    Point("BL60", "Kunlun", "body", "forbidden"),
    Point("BL67", "Zhiyin", "body", "forbidden"),
    Point("CV12", "Zhongwan", "body"),
    Point("CV6", "Qihai", "body", "first_trimester"),
    Point("CV4", "Guanyuan", "body", "first_trimester"),
    Point("BL23", "Shenshu", "body", "first_trimester"),
    Point("BL32", "Ciliao", "body", "first_trimester"),
    Point("GV4", "Mingmen", "body", "first_trimester"),
]

POINTS = {p.code: p for p in FACE + BODY}


def choices(points):
    return [(p.code, p.label) for p in points]
