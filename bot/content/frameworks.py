"""The official frameworks a lesson is tagged with: closed lists of confirmed wording.

One place for the keys and their Vietnamese wording, read by the content checker (which
rejects any other tag), the generated overview and reports. QĐ 757/QĐ-BKHCN is the
programme the curriculum serves; it has no sub-labels here on purpose (none is confirmed).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

# Công văn 3139/BTTTT-KTS&XHS, groups 0 and 1 (confirmed wording).
CV3139 = MappingProxyType(
    {
        "0.1": "Sử dụng thiết bị",
        "0.2": "Sử dụng phần mềm trên thiết bị",
        "1.1": "Tìm kiếm, chọn lọc thông tin trên Internet",
        "1.2": "Đánh giá dữ liệu, thông tin và nội dung trên môi trường Internet",
    }
)

# Công văn 3240/BTTTT-CĐSQG, the five basic skills (back-translated from the Ministry's English).
CV3240 = MappingProxyType(
    {
        "dich_vu_cong": "Sử dụng dịch vụ công trực tuyến",
        "mua_sam": "Mua sắm trực tuyến",
        "thanh_toan": "Thanh toán trực tuyến",
        "tu_bao_ve": "Tự bảo vệ trên không gian mạng",
        "nen_tang_dia_phuong": "Sử dụng các nền tảng số khác theo đặc thù địa phương",
    }
)

# Thông tư 02/2025/TT-BGDĐT: the six domains of the digital competence framework.
TT02 = MappingProxyType(
    {
        "khai_thac_du_lieu": "Khai thác dữ liệu và thông tin",
        "giao_tiep_hop_tac": "Giao tiếp và hợp tác",
        "sang_tao_noi_dung": "Sáng tạo nội dung số",
        "an_toan": "An toàn",
        "giai_quyet_van_de": "Giải quyết vấn đề",
        "ung_dung_ai": "Ứng dụng trí tuệ nhân tạo",
    }
)


class Framework(NamedTuple):
    key: str  # the field under `framework:` in a lesson file
    short: str  # how the document is named in messages and tables
    document: str  # the full document number
    what: str  # what one tag names (group, skill, domain)
    wording: MappingProxyType[str, str]  # tag -> confirmed Vietnamese wording
    required: bool
    numbered: bool  # the tag is the document's own number ("0.1"), worth showing

    def label(self, tag: str) -> str:
        """How a tag reads in an overview or report, e.g. "CV 3139 0.1: Sử dụng thiết bị"."""
        shown = f"{self.short} {tag}" if self.numbered else self.short
        return f"{shown}: {self.wording[tag]}"


FRAMEWORKS: tuple[Framework, ...] = (
    Framework("cv3139", "CV 3139", "Công văn 3139/BTTTT-KTS&XHS", "group", CV3139, False, True),
    Framework("cv3240", "CV 3240", "Công văn 3240/BTTTT-CĐSQG", "skill", CV3240, False, False),
    Framework("tt02", "TT 02", "Thông tư 02/2025/TT-BGDĐT", "domain", TT02, True, False),
)
FRAMEWORK_BY_KEY = MappingProxyType({framework.key: framework for framework in FRAMEWORKS})

# The programme the curriculum serves as a whole.
PROGRAMME = "Quyết định 757/QĐ-BKHCN"


def wording(framework_key: str, tag: str) -> str:
    """The confirmed Vietnamese wording of one tag, e.g. ("cv3240", "thanh_toan")."""
    return FRAMEWORK_BY_KEY[framework_key].wording[tag]
