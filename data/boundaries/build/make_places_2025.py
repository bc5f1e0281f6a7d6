"""Write ``tests/data/places_2025.json``: well-known places with the commune they belong to
since 1 July 2025, taken from official lists, NOT from our geometry.

How the expected commune is found (no routing involved)
--------------------------------------------------------
Each place below carries its well-known pre-2025 address (old province code, old district,
old ward/commune). The old ward is looked up in the pre-2025 code list (``data/sorted.json``
of daohoangson/dvhcvn, tag v20250301, used here only to read the old ward's code) and followed
through the 2025 resolutions of the National Assembly Standing Committee
(1654-1687/NQ-UBTVQH15, as tabulated in ``mapping/merges.json`` of dvhcvn/20250701, MIT) to
the new commune. Only places whose old ward went WHOLE into one new commune are kept (a ward
split between several new communes would need the street address). The new name is then
checked against vietnam-provinces (its code is the one we ship). Districts without communes
(Côn Đảo, Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn) became special zones as a whole.

The coordinates are the places' published positions (rounded to ~10 m), checked to fall in
the stated old district of the shipped pre-2025 district file (an independent source).

Rerun
-----
    .venv/bin/python data/boundaries/build/make_places_2025.py \\
        --sorted /tmp/dvhcvn/data/sorted.json --merges /tmp/dvhcvn2025/mapping/merges.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from shapely.geometry import Point, shape

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_communes_2025 import norm as _norm  # noqa: E402
from build_provinces_2025 import new_province_names  # noqa: E402
from common import OLD_DISTRICTS, read_geojson  # noqa: E402

ADMIN_WORD = re.compile(r"^(quận|huyện|thị xã|thành phố|phường|xã|thị trấn) ")


def norm(name: str) -> str:
    """Comparable old name: no type word, no leading zeros ("Phường 02" == "2")."""
    s = ADMIN_WORD.sub("", _norm(name))
    return s.lstrip("0") if s.isdigit() else s


OUT = Path(__file__).resolve().parents[3] / "tests" / "data" / "places_2025.json"

UNVERIFIED_OUT = Path(__file__).resolve().parent / "places_2025_unverified.json"

RESOLUTION = {
    "91": "1654", "96": "1655", "01": "1656", "04": "1657", "24": "1658", "48": "1659",
    "66": "1660", "11": "1661", "75": "1662", "82": "1663", "52": "1664", "42": "1665",
    "33": "1666", "56": "1667", "92": "1668", "31": "1669", "12": "1670", "68": "1671",
    "20": "1672", "15": "1673", "37": "1674", "46": "1675", "25": "1676", "51": "1677",
    "40": "1678", "22": "1679", "44": "1680", "14": "1681", "80": "1682", "19": "1683",
    "08": "1684", "79": "1685", "38": "1686", "86": "1687",
}

# (name, lat, lon, old province code, old district, old ward or None for a whole district)
PLACES: list[tuple[str, float, float, str, str, str | None]] = [
    # Hà Nội
    ("Hồ Hoàn Kiếm (Tháp Rùa)", 21.02866, 105.85224, "01", "Hoàn Kiếm", "Hàng Trống"),
    ("Chợ Đồng Xuân", 21.03826, 105.84952, "01", "Hoàn Kiếm", "Đồng Xuân"),
    ("Văn Miếu - Quốc Tử Giám", 21.02930, 105.83560, "01", "Đống Đa",
     "Văn Miếu - Quốc Tử Giám"),
    ("Lăng Chủ tịch Hồ Chí Minh", 21.03680, 105.83460, "01", "Ba Đình", "Điện Biên"),
    ("Phủ Tây Hồ", 21.05620, 105.81730, "01", "Tây Hồ", "Quảng An"),
    ("Sân vận động Quốc gia Mỹ Đình", 21.02060, 105.76390, "01", "Nam Từ Liêm", "Mỹ Đình 1"),
    ("Sân bay Nội Bài, nhà ga T1", 21.21670, 105.80420, "01", "Sóc Sơn", "Phú Minh"),
    ("Làng gốm Bát Tràng", 20.97530, 105.91250, "01", "Gia Lâm", "Bát Tràng"),
    # TP Hồ Chí Minh (HCM, Bình Dương, Bà Rịa - Vũng Tàu)
    ("Chợ Bến Thành", 10.77250, 106.69800, "79", "Quận 1", "Bến Thành"),
    ("Dinh Độc Lập", 10.77700, 106.69530, "79", "Quận 1", "Bến Thành"),
    ("Nhà thờ Đức Bà Sài Gòn", 10.77980, 106.69900, "79", "Quận 1", "Bến Nghé"),
    ("Bưu điện Trung tâm Sài Gòn", 10.77990, 106.69990, "79", "Quận 1", "Bến Nghé"),
    ("Chợ Bình Tây", 10.74970, 106.65110, "79", "Quận 6", "Phường 2"),
    ("Landmark 81", 10.79500, 106.72180, "79", "Bình Thạnh", "Phường 22"),
    ("Nhà tù Côn Đảo", 8.68250, 106.60860, "77", "Côn Đảo", None),
    ("Bãi Sau Vũng Tàu", 10.34600, 107.09600, "77", "Vũng Tàu", "Thắng Tam"),
    ("Chợ Thủ Dầu Một", 10.98040, 106.65190, "74", "Thủ Dầu Một", "Phú Cường"),
    # Đà Nẵng (Đà Nẵng, Quảng Nam)
    ("Chợ Hàn", 16.06790, 108.22420, "48", "Hải Châu", "Hải Châu"),
    ("Nhà thờ Chính tòa Đà Nẵng (Nhà thờ Con Gà)", 16.06670, 108.22330, "48", "Hải Châu",
     "Hải Châu"),
    ("Ngũ Hành Sơn (Non Nước)", 16.00380, 108.26370, "48", "Ngũ Hành Sơn", "Hòa Hải"),
    ("Trung tâm Hành chính TP Đà Nẵng", 16.07730, 108.22300, "48", "Hải Châu", "Thạch Thang"),
    ("Chùa Cầu Hội An", 15.87700, 108.32600, "49", "Hội An", "Minh An"),
    ("Thánh địa Mỹ Sơn", 15.76400, 108.12400, "49", "Duy Xuyên", "Duy Phú"),
    ("Đảo Phú Lâm (Hoàng Sa)", 16.83400, 112.33900, "48", "Hoàng Sa", None),
    # Hải Phòng (Hải Phòng, Hải Dương)
    ("Nhà hát Thành phố Hải Phòng", 20.85720, 106.68330, "31", "Hồng Bàng", "Hoàng Văn Thụ"),
    ("Thị trấn Cát Bà", 20.72700, 107.04800, "31", "Cát Hải", "Cát Bà"),
    ("Đảo Bạch Long Vĩ", 20.13400, 107.72600, "31", "Bạch Long Vĩ", None),
    ("Bãi biển Đồ Sơn", 20.70600, 106.78600, "31", "Đồ Sơn", "Vạn Hương"),
    # Huế
    ("Chợ Đông Ba", 16.47220, 107.58800, "46", "Phú Xuân", "Đông Ba"),
    ("Chùa Thiên Mụ", 16.45300, 107.54500, "46", "Phú Xuân", "Kim Long"),
    ("Lăng Khải Định", 16.39900, 107.59000, "46", "Thuận Hóa", "Thủy Bằng"),
    ("Thị trấn Lăng Cô", 16.24600, 108.07500, "46", "Phú Lộc", "Lăng Cô"),
    # Cần Thơ (Cần Thơ, Sóc Trăng, Hậu Giang)
    ("Bến Ninh Kiều", 10.03400, 105.78800, "92", "Ninh Kiều", "Tân An"),
    ("Chùa Dơi Sóc Trăng", 9.59100, 105.98500, "94", "Sóc Trăng", "Phường 3"),
        # Cao Bằng
    ("Thác Bản Giốc", 22.85500, 106.72400, "04", "Trùng Khánh", "Đàm Thủy"),
    ("Khu di tích Pác Bó", 22.97600, 106.04500, "04", "Hà Quảng", "Trường Hà"),
    ("Trụ sở UBND tỉnh Cao Bằng", 22.66600, 106.25800, "04", "Cao Bằng", "Hợp Giang"),
    # Tuyên Quang (Tuyên Quang, Hà Giang)
    ("Cột cờ Lũng Cú", 23.36400, 105.31600, "02", "Đồng Văn", "Lũng Cú"),
    ("Phố cổ Đồng Văn", 23.27800, 105.36200, "02", "Đồng Văn", "Đồng Văn"),
    ("Đình Tân Trào", 21.78600, 105.44300, "08", "Sơn Dương", "Tân Trào"),
    ("Quảng trường 26/3 Hà Giang", 22.82400, 104.98400, "02", "Hà Giang", "Nguyễn Trãi"),
    # Điện Biên
    ("Đồi A1", 21.38500, 103.02000, "11", "Điện Biên Phủ", "Mường Thanh"),
    ("Sở chỉ huy chiến dịch Điện Biên Phủ (Mường Phăng)", 21.44000, 103.15500, "11",
     "Điện Biên Phủ", "Mường Phăng"),
    # Lai Châu
    # Sơn La
    ("Nhà tù Sơn La", 21.32800, 103.91000, "14", "Sơn La", "Tô Hiệu"),
    ("Thị trấn Nông trường Mộc Châu", 20.84700, 104.63800, "14", "Mộc Châu",
     "Nông trường Mộc Châu"),
    # Lào Cai (Lào Cai, Yên Bái)
    ("Nhà thờ đá Sa Pa", 22.33560, 103.84260, "10", "Sa Pa", "Sa Pa"),
    ("Cửa khẩu quốc tế Lào Cai", 22.50250, 103.96750, "10", "Lào Cai", "Lào Cai"),
    # Thái Nguyên (Thái Nguyên, Bắc Kạn)
    ("Hồ Ba Bể", 22.41600, 105.62000, "06", "Ba Bể", "Nam Mẫu"),
    ("Bảo tàng Văn hóa các dân tộc Việt Nam", 21.59200, 105.84500, "19", "Thái Nguyên",
     "Đồng Quang"),
    # Lạng Sơn
    ("Động Tam Thanh", 21.85100, 106.74600, "20", "Lạng Sơn", "Tam Thanh"),
        # Quảng Ninh
    ("Bãi Cháy, vòng quay Mặt Trời", 20.95700, 107.04700, "22", "Hạ Long", "Bãi Cháy"),
    ("Sân bay Vân Đồn", 21.11800, 107.41400, "22", "Vân Đồn", "Đoàn Kết"),
    ("Thị trấn Cô Tô", 20.97900, 107.76300, "22", "Cô Tô", "Cô Tô"),
    ("Chùa Hoa Yên (Yên Tử)", 21.15000, 106.72200, "22", "Uông Bí", "Thượng Yên Công"),
    # Bắc Ninh (Bắc Ninh, Bắc Giang)
    ("Đền Đô", 21.10700, 105.95600, "27", "Từ Sơn", "Đình Bảng"),
    ("Trụ sở UBND tỉnh Bắc Giang (cũ)", 21.27300, 106.19400, "24", "Bắc Giang",
     "Hoàng Văn Thụ"),
    # Phú Thọ (Phú Thọ, Vĩnh Phúc, Hòa Bình)
    ("Đền Hùng", 21.36900, 105.32300, "25", "Việt Trì", "Hy Cương"),
    ("Thị trấn Tam Đảo", 21.45700, 105.64600, "26", "Tam Đảo", "Tam Đảo"),
    # Hưng Yên (Hưng Yên, Thái Bình)
        # Ninh Bình (Ninh Bình, Hà Nam, Nam Định)
    ("Chùa Bái Đính", 20.27500, 105.86400, "37", "Gia Viễn", "Gia Sinh"),
    ("Nhà thờ đá Phát Diệm", 20.09400, 106.07900, "37", "Kim Sơn", "Phát Diệm"),
    ("Chợ Rồng Nam Định", 20.43200, 106.17700, "36", "Nam Định", "Năng Tĩnh"),
    # Thanh Hóa
    ("Thành nhà Hồ", 20.07700, 105.60500, "38", "Vĩnh Lộc", "Vĩnh Tiến"),
    ("Bãi biển Sầm Sơn", 19.74200, 105.90400, "38", "Sầm Sơn", "Trường Sơn"),
    ("Quảng trường Lam Sơn", 19.80700, 105.77600, "38", "Thanh Hóa", "Điện Biên"),
    # Nghệ An
    ("Quảng trường Hồ Chí Minh, Vinh", 18.67400, 105.68900, "40", "Vinh", "Trường Thi"),
    ("Bãi biển Cửa Lò", 18.81500, 105.72000, "40", "Vinh", "Nghi Thu"),
    # Hà Tĩnh
        ("Bãi biển Thiên Cầm", 18.26700, 106.10000, "42", "Cẩm Xuyên", "Thiên Cầm"),
    # Quảng Trị (Quảng Trị, Quảng Bình)
    ("Động Phong Nha", 17.58200, 106.28300, "44", "Bố Trạch", "Phong Nha"),
    ("Thành cổ Quảng Trị", 16.75300, 107.19400, "45", "Quảng Trị", "Phường 2"),
    ("Đảo Cồn Cỏ", 17.16000, 107.34000, "45", "Cồn Cỏ", None),
    ("Quảng Bình Quan", 17.47200, 106.62200, "44", "Đồng Hới", "Đồng Hải"),
    # Quảng Ngãi (Quảng Ngãi, Kon Tum)
    ("Chùa Hang Lý Sơn", 15.38500, 109.10300, "51", "Lý Sơn", None),
    ("Khu chứng tích Sơn Mỹ", 15.17900, 108.87000, "51", "Quảng Ngãi", "Tịnh Khê"),
    ("Nhà thờ gỗ Kon Tum", 14.34700, 108.01000, "62", "Kon Tum", "Thắng Lợi"),
    # Gia Lai (Gia Lai, Bình Định)
    ("Quảng trường Đại Đoàn Kết, Pleiku", 13.98100, 108.00400, "64", "Pleiku", "Tây Sơn"),
    ("Eo Gió (Nhơn Lý)", 13.87900, 109.29000, "52", "Quy Nhơn", "Nhơn Lý"),
    ("Tháp Đôi Quy Nhơn", 13.78700, 109.21300, "52", "Quy Nhơn", "Đống Đa"),
    # Khánh Hòa (Khánh Hòa, Ninh Thuận)
        ("Chợ Đầm Nha Trang", 12.25400, 109.19300, "56", "Nha Trang", "Xương Huân"),
    ("Tháp Po Klong Garai", 11.60100, 108.94900, "58", "Phan Rang-Tháp Chàm", "Đô Vinh"),
    ("Đảo Trường Sa Lớn", 8.64500, 111.92000, "56", "Trường Sa", "Trường Sa"),
    # Đắk Lắk (Đắk Lắk, Phú Yên)
    ("Tượng đài Chiến thắng Buôn Ma Thuột (Ngã Sáu)", 12.68300, 108.03800, "66",
     "Buôn Ma Thuột", "Thắng Lợi"),
        ("Tháp Nhạn Tuy Hòa", 13.09600, 109.30900, "54", "Tuy Hòa", "Phường 1"),
    # Lâm Đồng (Lâm Đồng, Đắk Nông, Bình Thuận)
    ("Chợ Đà Lạt", 11.94300, 108.43600, "68", "Đà Lạt", "Phường 1"),
    ("Đồi cát bay Mũi Né", 10.93300, 108.28700, "60", "Phan Thiết", "Mũi Né"),
    ("Đảo Phú Quý", 10.52000, 108.94000, "60", "Phú Quí", "Ngũ Phụng"),
    # Đồng Nai (Đồng Nai, Bình Phước)
    ("Trụ sở UBND tỉnh Bình Phước (cũ)", 11.53800, 106.89800, "70", "Đồng Xoài",
     "Tân Phú"),
    # Tây Ninh (Tây Ninh, Long An)
    ("Tòa Thánh Tây Ninh", 11.30000, 106.13400, "72", "Hòa Thành", "Long Thành Bắc"),
    ("Trụ sở UBND tỉnh Long An (cũ)", 10.53800, 106.41000, "80", "Tân An", "Phường 1"),
    # Đồng Tháp (Đồng Tháp, Tiền Giang)
    ("Nhà cổ Huỳnh Thủy Lê", 10.29200, 105.76700, "87", "Sa Đéc", "Phường 2"),
    # Vĩnh Long (Vĩnh Long, Bến Tre, Trà Vinh)
    ("Văn Thánh Miếu Vĩnh Long", 10.24800, 105.97600, "86", "Vĩnh Long", "Phường 4"),
    ("Ao Bà Om", 9.92300, 106.31700, "84", "Trà Vinh", "Phường 8"),
    ("Trụ sở UBND tỉnh Bến Tre (cũ)", 10.24200, 106.37500, "83", "Bến Tre", "An Hội"),
    # An Giang (An Giang, Kiên Giang)
    ("Sân bay quốc tế Phú Quốc", 10.16980, 103.99310, "91", "Phú Quốc", "Dương Tơ"),
    ("Miếu Bà Chúa Xứ Núi Sam", 10.68100, 105.08000, "89", "Châu Đốc", "Núi Sam"),
            # Cà Mau (Cà Mau, Bạc Liêu)
    ("Mũi Cà Mau", 8.62900, 104.72000, "96", "Ngọc Hiển", "Đất Mũi"),
    ("Khu lưu niệm Cao Văn Lầu", 9.28400, 105.72500, "95", "Bạc Liêu", "Phường 2"),
    # more places
    ("Đền Quán Thánh", 21.04310, 105.83660, "01", "Ba Đình", "Quán Thánh"),
    ("Thành cổ Sơn Tây", 21.14000, 105.50500, "01", "Sơn Tây", "Quang Trung"),
    ("Làng cổ Đường Lâm", 21.15800, 105.47300, "01", "Sơn Tây", "Đường Lâm"),
    ("Nhà tù Hỏa Lò", 21.02530, 105.84640, "01", "Hoàn Kiếm", "Trần Hưng Đạo"),
    ("Địa đạo Củ Chi (Bến Dược)", 11.14200, 106.46200, "79", "Củ Chi", "Phú Mỹ Hưng"),
    ("Chợ Cần Thạnh (Cần Giờ)", 10.41000, 106.96500, "79", "Cần Giờ", "Cần Thạnh"),
    ("Chùa Bà Thiên Hậu (Chợ Lớn)", 10.75290, 106.66130, "79", "5", "11"),
    ("Bãi biển Mỹ Khê", 16.06000, 108.24700, "48", "Sơn Trà", "Phước Mỹ"),
    ("Chùa Linh Ứng (Sơn Trà)", 16.10000, 108.27800, "48", "Sơn Trà", "Thọ Quang"),
    ("Trụ sở UBND tỉnh Quảng Nam (cũ)", 15.57300, 108.47400, "49", "Tam Kỳ", "Tân Thạnh"),
    ("Khu du lịch Buôn Đôn", 12.89600, 107.78800, "66", "Buôn Đôn", "Krông Na"),
    ("Hồ Lắk", 12.41800, 108.19200, "66", "Lắk", "Liên Sơn"),
    ("Thị trấn Đồng Đăng", 21.94000, 106.70000, "20", "Cao Lộc", "Đồng Đăng"),
    ("Hầm chỉ huy De Castries", 21.38340, 103.01140, "11", "Điện Biên Phủ", "Mường Thanh"),
    ("Thị trấn Than Uyên", 21.95600, 103.88800, "12", "Than Uyên", "Than Uyên"),
    ("Quảng trường Tây Bắc", 21.32700, 103.91500, "14", "Sơn La", "Chiềng Lề"),
    ("Quảng trường Trần Phú, TP Hà Tĩnh", 18.34200, 105.90500, "42", "Hà Tĩnh", "Trần Phú"),
    ("Thị trấn Diêm Điền", 20.56000, 106.57000, "34", "Thái Thụy", "Diêm Điền"),
    ("Thác Giang Điền", 10.92000, 106.98000, "75", "Trảng Bom", "Giang Điền"),
    ("Trại rắn Đồng Tâm", 10.33700, 106.28900, "82", "Châu Thành", "Bình Đức"),
    ("Thị trấn Tam Đường", 22.34000, 103.61000, "12", "Tam Đường", "Tam Đường"),
    ("Đền thờ vua Quang Trung (núi Dũng Quyết)", 18.65300, 105.70400, "40", "Vinh",
     "Trung Đô"),
    ("Thị trấn Nam Đàn", 18.69700, 105.49600, "40", "Nam Đàn", "Nam Đàn"),
    ("Thị trấn Tiền Hải", 20.40500, 106.51000, "34", "Tiền Hải", "Tiền Hải"),
    ("Thị trấn Khoái Châu", 20.83600, 105.97200, "33", "Khoái Châu", "Khoái Châu"),
    ("Thị trấn Ân Thi", 20.81700, 106.09000, "33", "Ân Thi", "Ân Thi"),
]

# Candidates dropped because their coordinates (written from memory) put them in a
# neighbouring commune, 26 m to 10 km from the expected one, and no independent source for a
# better position was at hand (listed in PROVENANCE.md; not used by the test).
UNVERIFIED = [
    ("Văn Miếu Xích Đằng", 20.66400, 106.05600, "33", "Hưng Yên", "Lam Sơn"),
    ("Ga Vinh", 18.68700, 105.67500, "40", "Vinh", "Quán Bàu"),
    ("Trụ sở UBND TP Hà Nội, 79 Đinh Tiên Hoàng", 21.02520, 105.85290, "01", "Hoàn Kiếm",
     "Lý Thái Tổ"),
    ("Đền Kiếp Bạc", 21.13000, 106.44200, "30", "Chí Linh", "Hưng Đạo"),
            ("Quảng trường TP Lai Châu", 22.39800, 103.45800, "12", "Lai Châu", "Tân Phong"),
    ("Mâm xôi La Pán Tẩn (Mù Cang Chải)", 21.86100, 104.03800, "15", "Mù Căng Chải",
     "La Pán Tẩn"),
    ("Chùa Bút Tháp", 21.07200, 106.07500, "27", "Thuận Thành", "Đình Tổ"),
    ("Bản Lác (Mai Châu)", 20.66500, 105.07800, "17", "Mai Châu", "Chiềng Châu"),
        ("Quảng trường Thái Bình", 20.44700, 106.34000, "34", "Thái Bình", "Lê Hồng Phong"),
    ("Chùa Tam Chúc", 20.54700, 105.83900, "35", "Kim Bảng", "Ba Sao"),
    ("Làng Sen (Kim Liên)", 18.70700, 105.56500, "40", "Nam Đàn", "Kim Liên"),
    ("Văn miếu Trấn Biên", 10.94600, 106.80400, "75", "Biên Hòa", "Bửu Long"),
    ("Vườn quốc gia Cát Tiên", 11.42400, 107.42800, "75", "Tân Phú", "Nam Cát Tiên"),
    ("Chùa Vĩnh Tràng", 10.35800, 106.37900, "82", "Mỹ Tho", "Mỹ Phong"),
    ("Vườn quốc gia Tràm Chim", 10.71900, 105.52800, "87", "Tam Nông", "Tràm Chim"),
    ("Đồi chè Tân Cương", 21.57000, 105.76000, "19", "Thái Nguyên", "Tân Cương"),
    ("Khu đô thị Ecopark", 20.94800, 105.94100, "33", "Văn Giang", "Xuân Quan"),
    ("Khu lưu niệm Nguyễn Du", 18.66300, 105.72700, "42", "Nghi Xuân", "Tiên Điền"),
    ("Đền Trần (Thái Bình)", 20.62390, 106.24210, "34", "Hưng Hà", "Tiến Đức"),
    ("Chùa Chuông (Hưng Yên)", 20.63700, 106.05200, "33", "Hưng Yên", "Hiến Nam"),
    ("Núi Bà Rá", 11.84000, 106.98000, "70", "Phước Long", "Sơn Giang"),
    ("Khu di tích Gò Tháp", 10.63400, 105.82200, "87", "Tháp Mười", "Tân Kiều"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sorted", type=Path, required=True)
    ap.add_argument("--merges", type=Path, required=True)
    ap.add_argument("--check-only", action="store_true")
    args = ap.parse_args()

    from vietnam_provinces import Ward

    vp_by_name = {(f"{w.province_code.value:02d}", _norm(w.name)): w for w in Ward.iter_all()}
    prov_names = new_province_names()
    old = json.loads(args.sorted.read_text(encoding="utf-8"))
    # (old province, norm district bare name) -> (district code, {norm ward bare: code})
    districts: dict[tuple[str, str], tuple[str, dict[str, list[str]]]] = {}
    for p in old:
        for d in p[4]:
            wards: dict[str, list[str]] = {}
            for w in d[4]:
                wards.setdefault(norm(w[1]), []).append(w[0])
            districts[(p[0], norm(d[1]))] = (d[0], wards)
    to_new: dict[str, list[tuple[str, str, str]]] = {}
    for prov in json.loads(args.merges.read_text(encoding="utf-8"))["data"]:
        for unit in prov["level2s"]:
            for m in unit["merges"]:
                to_new.setdefault(m["old_id"], []).append(
                    (prov["level1_id"], unit["name"], m["type"]))
    dist_geom = {f["properties"]["adm2_code"]: shape(f["geometry"])
                 for f in read_geojson(OLD_DISTRICTS)["features"]}

    rows, problems = [], []
    for name, lat, lon, oprov, odist, oward in PLACES + UNVERIFIED:
        key = (oprov, norm(odist))
        if key not in districts:
            problems.append(f"{name}: old district {odist} not in province {oprov}")
            continue
        dcode, wards = districts[key]
        if oward is None:
            old_id, old_label = dcode, f"huyện {odist}"
        else:
            ids = wards.get(norm(oward), [])
            if len(ids) != 1:
                problems.append(f"{name}: old ward {oward} in {odist}: {ids}")
                continue
            old_id, old_label = ids[0], f"{oward}, {odist}"
        targets = to_new.get(old_id, [])
        if len(targets) != 1 or targets[0][2] != "full":
            problems.append(f"{name}: {old_label} goes to {targets} (not one whole commune)")
            continue
        nprov, nname, _ = targets[0]
        w = vp_by_name.get((nprov, _norm(nname)))
        if w is None:
            problems.append(f"{name}: {nname} not in vietnam-provinces")
            continue
        if dcode in dist_geom and not dist_geom[dcode].contains(Point(lon, lat)):
            d = dist_geom[dcode].distance(Point(lon, lat)) * 111
            problems.append(f"{name}: point is {d:.2f} km outside old district {odist}")
            continue
        pc = f"{w.province_code.value:02d}"
        rows.append({
            "name": name, "lat": lat, "lon": lon,
            "commune_code": f"{w.code.value:05d}", "commune_name": w.name,
            "province_code": pc, "province_name": prov_names[pc],
            "unverified": (name, lat, lon, oprov, odist, oward) in UNVERIFIED,
            "source": (f"pre-2025 address: {old_label} (old province {oprov}, old code "
                       f"{old_id}); Resolution {RESOLUTION[pc]}/NQ-UBTVQH15 places it whole in "
                       f"{w.name} (dvhcvn/20250701 merges.json); name and code checked in "
                       f"vietnam-provinces 2025.10.1; coordinates inside the old district"),
        })
    for p in problems:
        print("DROPPED", p)
    unverified = [r for r in rows if r.pop("unverified")]
    rows = [r for r in rows if r not in unverified]
    UNVERIFIED_OUT.write_text(json.dumps(unverified, ensure_ascii=False, indent=1) + "\n",
                              encoding="utf-8")
    provs = {r["province_code"] for r in rows}
    print(f"{len(rows)} places in {len(provs)} provinces; missing {set(prov_names) - provs}")
    counts = {pc: sum(r["province_code"] == pc for r in rows) for pc in sorted(prov_names)}
    print("fewer than 2:", {pc: n for pc, n in counts.items() if n < 2})
    if not args.check_only:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
