# SPDX-License-Identifier: AGPL-3.0-or-later
"""Standalone verifier for Commons Ledger disclosure bundles and receipts (FORMAT.md).

    python -m transparency.verify BUNDLE.json [--previous PREV.json] [--receipt R.json]
                                  [--key PUBKEY] [--json]
    python -m transparency.verify --receipt R.json [--key PUBKEY]

It needs the standard library and ``cryptography`` only (it imports nothing from the project
outside ``transparency/``'s stdlib-only modules), so anyone can copy the ``transparency``
folder and check a report without trusting our server or our code base. The tree size and
root always come from the signed checkpoint; everything else is recomputed from the bytes.

Each check prints one line, ``PASS|FAIL|WARN|SKIP <check>: <why>``, and a check that did not
run, or ran without something only the user can give, says what completes it (``  → …``).
Exit codes (FORMAT.md §5): 0 every check ran and passed (informational warnings allowed),
1 at least one check failed, 2 an input could not be read (missing file, not JSON, wrong format
version, larger than 512 MiB, a malformed --key), 3 partly checked: nothing failed, but a
check did not run (no previous report given) or ran without a trusted key or origin.

``--key`` is what makes the result mean something: the organisation's public key (base64 of
the 32 bytes, its hex SHA-256 fingerprint, a C2SP verifier key ``name+id+base64``, a
``public_key`` JSON object, or a file holding any of these), obtained from somewhere other
than the bundle. Without it the verifier uses the bundle's own key and says the result is
only partly checked. The log's origin (``<host>/commons-ledger/<book id>``) is compared with the
one the organisation's page states: the verifier key ``name+id+base64`` carries it, or give it
with ``--origin``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import functools
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tlog import bundle_math as bm
from tlog import jcs, merkle, notes

__all__ = [
    "DISCLOSURE_FORMAT",
    "MAX_INPUT_BYTES",
    "RECEIPT_FORMAT",
    "Check",
    "InputError",
    "Report",
    "TrustedKey",
    "load_json",
    "main",
    "parse_key",
    "verify",
    "verify_bundle",
    "verify_receipt",
]

DISCLOSURE_FORMAT = "commons-ledger/disclosure/1"
RECEIPT_FORMAT = "commons-ledger/receipt/1"
MAX_INPUT_BYTES = 512 * 1024 * 1024
MAX_KEY_FILE_BYTES = 64 * 1024

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"
VERIFIED, PARTLY_CHECKED, NOT_VERIFIED = "verified", "partly_checked", "not_verified"
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_VKEY = re.compile(r"[^+\s]+\+[0-9a-fA-F]{8}\+")


# =========================================================================== messages

# Every detail a check gives, in English (what ``Report.text`` and ``--json`` print) and in
# Chinese (``--lang zh``): key -> (English template, Chinese template); ``{name}`` parameters
# are filled by ``msg``. A parameter that is itself a ``Msg`` (or a list of them) is rendered in
# the same language. Amounts are given already formatted in yuan (``yuan``).
MESSAGES: dict[str, tuple[str, str]] = {
    "list": ("{items}", "{items}"),
    "comma_list": ("{items}", "{items}"),
    "list_more": ("{items}; ... {more} more", "{items}；……另有 {more} 项"),
    "list_and_more": ("{items}; ... and {more} more", "{items}；……另有 {more} 项"),
    "header_pass": ("book {book}, period {start} to {end}", "账簿 {book}，期间 {start} 至 {end}"),
    "cp_signed": (
        "checkpoint of {size} leaves is signed by {origin}",
        "含 {size} 条记录的日志由 {origin} 签名",
    ),
    "origin_pass": (
        "the log's origin is {origin}, as the organisation's page states",
        "日志名称是 {origin}，与机构页面上写明的一致",
    ),
    "origin_previous": (
        "the log's origin is {origin}; it is compared with the organisation's "
        "page for the report being verified",
        "日志名称是 {origin}；核验本报告时会与机构页面上写明的名称比较",
    ),
    "origin_unchecked": (
        "the log's origin is {origin}; it was not compared with the one the "
        "organisation's page states",
        "日志名称是 {origin}；没有与机构页面上写明的名称比较",
    ),
    "first_no_previous": (
        "first report of the book: there is no previous report to continue",
        "账簿的第一份报告：没有要接续的上一份报告",
    ),
    "previous_cp_pass": (
        "previous checkpoint (size {size}) is signed by the same key",
        "上一份报告的日志（{size} 条记录）由同一个公钥签名",
    ),
    "first_no_consistency": (
        "first report of the book: there is no earlier signed log to compare with",
        "账簿的第一份报告：没有更早的已签名日志可比较",
    ),
    "needs_both_checkpoints": ("needs both checkpoints", "需要两个检查点"),
    "consistency_empty": (
        "the previous checkpoint was of an empty log; every log extends it",
        "上一个检查点是空日志；任何日志都是它的延续",
    ),
    "consistency_pass": (
        "the log of size {size} extends the previous one of size {prev}: nothing was rewritten",
        "现在的日志（{size} 条记录）是上一份报告时的日志（{prev} 条记录）的延续：以前的记录没有改写",
    ),
    "compact_first": ("first report: the log starts empty", "第一份报告：日志从空开始"),
    "compact_differs": (
        "the compact range does not fold to the previous checkpoint's root",
        "压缩区间合并后不是上一个检查点的根",
    ),
    "compact_pass": (
        "the compact range folds to the previous checkpoint's root",
        "压缩区间合并后正是上一个检查点的根",
    ),
    "needs_previous_data": (
        "needs the previous report's data (previous_checkpoint)",
        "需要上一份报告的数据（见 previous_checkpoint）",
    ),
    "carried_first": ("first report: nothing carried", "第一份报告：没有转入记录"),
    "carried_records_pass": (
        "{n} records from earlier log segments, each proven in this checkpoint",
        "{n} 条来自更早日志段的记录，每一条都在本检查点中得到证明",
    ),
    "needs_valid_records": ("needs valid records", "需要有效的记录"),
    "record_dates_pass": (
        "{n} pending records dated after {end} go to a later report",
        "{n} 条日期在 {end} 之后的待入账记录归入以后的报告",
    ),
    "accounts_missing": (
        "records use accounts that are not listed: {accounts}",
        "记录用到了没有列出的科目：{accounts}",
    ),
    "accounts_pass": ("{n} accounts, parents all listed", "{n} 个科目，上级科目都已列出"),
    "source_this_bundle": ("the key this bundle was checked with", "核验本报告所用的公钥"),
    "doc_bundle": ("bundle", "报告"),
    "doc_receipt": ("receipt", "回执"),
    "key_own": (
        "no key was given, so the {what}'s own key (fingerprint {fp}) was used: this "
        "proves only that the {what} is internally consistent",
        "没有提供公钥，因此使用了{what}自带的公钥（指纹 {fp}）：这只能说明{what}本身前后一致",
    ),
    "key_given": (
        "signatures are checked with the key given by {source} ({fp})",
        "签名用 {source} 给出的公钥（{fp}）核对",
    ),
    "key_not_given": (
        "the {what}'s public key (fingerprint {own}) is not the key given by {source} "
        "(fingerprint {fp})",
        "{what}的公钥（指纹 {own}）不是 {source} 给出的公钥（指纹 {fp}）",
    ),
    "key_fp_differs": (
        "the {what}'s public key has fingerprint {own}, not {fp} given by {source}",
        "{what}的公钥指纹是 {own}，不是 {source} 给出的 {fp}",
    ),
    "key_fp_pass": (
        "the {what}'s key matches the fingerprint given by {source}",
        "{what}的公钥与 {source} 给出的指纹一致",
    ),
    "needs_record_book": ("needs the record's book", "需要记录所属的账簿"),
    "receipt_of": ("the record is of {origin}", "记录属于 {origin}"),
    "receipt_index": (
        "record.index is {index} but the receipt is for index {want}",
        "record.index 是 {index}，但回执针对的是序号 {want}",
    ),
    "receipt_record_pass": (
        "record {number} of book {book}, index {index}",
        "账簿 {book} 的第 {number} 号记录，序号 {index}",
    ),
    "receipt_other_key": (
        "the receipt is signed with another key than the bundle",
        "回执与报告不是用同一个公钥签名的",
    ),
    "receipt_inclusion_pass": (
        "the record is leaf {index} of the signed log of {size} leaves",
        "该记录在已签名的日志（共 {size} 条记录）中，序号 {index}",
    ),
    "receipt_no_private": (
        "the receipt has no private fields to open the record's commitments with",
        "回执中没有可用来打开记录承诺值的个人信息",
    ),
    "receipt_no_commitment": (
        "the record has no commitment for line {line}",
        "记录中没有第 {line} 行的承诺值",
    ),
    "receipt_commitment_differs": (
        "SHA-256(salt ‖ private fields) of line {line} is not the record's commitment "
        "for that line: the salt or a private field differs",
        "第 {line} 行的 SHA-256（盐 ‖ 个人信息）不是记录中该行的承诺值：盐或某项个人信息不同",
    ),
    "receipt_commitment_line": ("line {line}: {name}", "第 {line} 行：{name}"),
    "receipt_commitment_pass": (
        "the record's commitment opens to the private fields ({who})",
        "记录的承诺值与个人信息一致（{who}）",
    ),
    "receipt_other_origin": (
        "the receipt is for {origin}, the bundle for {bundle}",
        "回执属于 {origin}，报告属于 {bundle}",
    ),
    "receipt_forked": (
        "the receipt's and the bundle's checkpoints have the same size but different roots: "
        "the log forked",
        "回执和报告的检查点大小相同但根不同：日志出现了分叉",
    ),
    "receipt_other_record": (
        "the bundle holds a different record at the receipt's index",
        "报告在回执所指的序号上是另一条记录",
    ),
    "receipt_same_record": ("the bundle holds the same record", "报告中有同一条记录"),
    "receipt_older": (
        "the receipt's checkpoint (size {size}) is older than the bundle's ({bundle}); "
        "for a proof against it ask for {url}",
        "回执签名时日志有 {size} 条记录，早于报告的 {bundle} 条；要取得相对于报告的证明，请访问 {url}",
    ),
    "receipt_same_book": ("same book and key as the bundle", "与报告属于同一账簿、使用同一公钥"),
    "needs_header": ("needs the book id (bundle_header)", "需要账簿编号（见 bundle_header）"),
    "needs_header_period": (
        "needs the book id and period (bundle_header)",
        "需要账簿编号和期间（见 bundle_header）",
    ),
    "needs_checkpoint": ("needs a readable checkpoint", "需要可读取的检查点"),
    "sig_for_other": (
        "the signature is for {signed}, this bundle is {want}",
        "签名针对的是 {signed}，本报告是 {want}",
    ),
    "sig_for_period": (
        "the signature is for the period {signed}, this bundle says {want}",
        "签名针对的期间是 {signed}，本报告写的是 {want}",
    ),
    "sig_hash_changed": (
        'the bundle\'s SHA-256 (canonical JSON without "signature") is not the signed one: '
        "something in the bundle was changed after it was signed",
        "报告的 SHA-256（不含“signature”的规范 JSON）不是签名时的那一个：报告在签名之后被改动过",
    ),
    "sig_pass": (
        "the bundle (hash {hash}…) is signed by {origin} for {period}",
        "报告（哈希 {hash}…）由 {origin} 为 {period} 签名",
    ),
    "records_none": (
        "no voucher was posted in this report's part of the log",
        "本报告所含的日志部分没有记账凭证",
    ),
    "records_pass": (
        "{n} records, log indices {first} to {last}",
        "{n} 条记录，日志序号 {first} 至 {last}",
    ),
    "root_size": (
        "checkpoint size is {size} but first_index {first} + {n} records = {expected}",
        "签名的日志有 {size} 条记录，但本期记录从序号 {first} 开始、共 {n} 条，合计应为 {expected} 条",
    ),
    "root_differs": (
        "the root recomputed from the compact range and the records is not the "
        "checkpoint's root: a record was changed, added, removed or reordered",
        "由压缩区间和记录重新计算的根不是检查点的根：有记录被改动、增加、删除或调换了顺序",
    ),
    "root_pass": (
        "root recomputed from {n} records equals the checkpoint's (size {size})",
        "由 {n} 条记录重新计算的日志根与签名的一致（日志共 {size} 条记录）",
    ),
    "balance_diff": (
        "{what}: recomputed {recomputed}, the report says {stated}",
        "{what}：重新计算为 {recomputed}，报告上写 {stated}",
    ),
    "opening_diff": (
        "{what}: previous closing {recomputed}, opening {stated}",
        "{what}：上期期末 {recomputed}，本期期初 {stated}",
    ),
    "opening_differs": (
        "opening balances are not the previous report's closing balances: {diffs}",
        "期初余额不是上一份报告的期末余额：{diffs}",
    ),
    "opening_first": (
        "the first report of a book opens from zero, but opening balances are listed",
        "账簿的第一份报告应从零开始，但列出了期初余额",
    ),
    "opening_first_pass": (
        "first report: opening balances are all zero",
        "第一份报告：期初余额全部为零",
    ),
    "opening_not_compared": (
        "not compared with the report before it: each report is checked against the "
        "one before it when that one is verified",
        "没有与它之前的报告比较：核验那一份报告时，会与它之前的报告比较",
    ),
    "opening_no_previous": (
        "the opening balances and carried records were not compared with the previous "
        "report (ending {end}): it was not given",
        "期初余额和转入记录没有与上一份报告（截至 {end}）比较：没有提供该报告",
    ),
    "opening_pass": (
        "opening balances equal the previous report's {n} closing balances",
        "期初余额等于上一份报告的 {n} 项期末余额",
    ),
    "closing_needs_opening": ("needs readable opening balances", "需要可读取的期初余额"),
    "closing_needs_records": (
        "needs valid records and carried records",
        "需要有效的本期记录和转入记录",
    ),
    "closing_differs": (
        "closing balances differ from opening + the period's records: {diffs}",
        "期末余额不等于期初余额加本期记录：{diffs}",
    ),
    "closing_pass": (
        "opening + {n} records of the period = the {m} closing balances",
        "期初余额加本期 {n} 条记录 = {m} 项期末余额",
    ),
    "statement_needs_accounts": (
        "needs the accounts (see the accounts check)",
        "需要会计科目表（见 accounts 检查）",
    ),
    "statement_needs_balances": (
        "needs recomputed balances (see closing_balances)",
        "需要重新计算的余额（见 closing_balances）",
    ),
    "statement_line": (
        "line {line}: recomputed {recomputed}, the report says {stated}",
        "第 {line} 行：重新计算为 {recomputed}，报告上写 {stated}",
    ),
    "statement_flow_pass": (
        "all {n} lines recomputed from the period's movements",
        "全部 {n} 行都按本期发生额重新计算",
    ),
    "statement_sheet_pass": (
        "all {n} lines recomputed from closing balances",
        "全部 {n} 行都按期末余额重新计算",
    ),
    "no_sheet": ("this report has no balance sheet", "本报告没有资产负债表"),
    "no_sheet_recomputed": ("no balance sheet was recomputed", "没有重新计算出资产负债表"),
    "sheet_unbalanced": (
        "{left} {left_amount} ≠ {right} {right_amount}: "
        "assets do not equal liabilities plus equity / net assets",
        "{left} {left_amount} ≠ {right} {right_amount}：资产不等于负债加所有者权益（净资产）",
    ),
    "sheet_pass": ("{left} = {right} = {amount}", "{left} = {right} = {amount}"),
    "previous_is_first": (
        "this bundle is a book's first report, yet a previous report was given",
        "本报告是账簿的第一份报告，却提供了上一份报告",
    ),
    "previous_needs": (
        "needs this bundle's book and previous checkpoint",
        "需要本报告的账簿和上一个检查点",
    ),
    "previous_other_book": (
        "it is a report of book {book}, not {want}",
        "它是账簿 {book} 的报告，不是账簿 {want} 的",
    ),
    "previous_other_checkpoint": (
        "its checkpoint is not the one this bundle names as previous",
        "它的检查点不是本报告所指的上一个检查点",
    ),
    "previous_other_end": (
        "its period ends {end}, this bundle says {want}",
        "它的期间截至 {end}，本报告写的是 {want}",
    ),
    "previous_other_key": ("it shows a different public key", "它显示的是另一个公钥"),
    "previous_pass": (
        "the previous report (ending {end}) is the one this bundle continues",
        "上一份报告（截至 {end}）正是本报告所接续的那一份",
    ),
    "carried_needs": ("needs valid carried records", "需要有效的转入记录"),
    "not_carried": ("not carried: indices {indices}", "没有转入：序号 {indices}"),
    "carried_not_pending": (
        "carried but not pending in the previous report: indices {indices}",
        "转入了，但在上一份报告中并非待入账记录：序号 {indices}",
    ),
    "carried_differ": (
        "differ from the previous report: indices {indices}",
        "与上一份报告不同：序号 {indices}",
    ),
    "carried_pass": (
        "the {n} carried records are the previous report's pending records (dated after {end})",
        "{n} 条转入记录正是上一份报告的待入账记录（日期在 {end} 之后）",
    ),
    # ----------------------------------------------------------- what tlog's errors mean
    # A bundle value of the wrong shape (tlog.bundle_math.ShapeError: "shape_" + its code).
    # English: the error's own words ({path}: {detail}); Chinese: what they say, in full.
    "shape_shape": ("{path}: {detail}", "{path}：格式不正确"),
    "shape_not_object": ("{path}: {detail}", "{path}：应为对象，实际是{got}"),
    "shape_missing": ("{path}: {detail}", "{path}：缺少这一项"),
    "shape_wrong_type": ("{path}: {detail}", "{path}：应为{expected}，实际是{got}"),
    "shape_bad_date": ("{path}: {detail}", "{path}：应为 YYYY-MM-DD 格式的日期，实际是 {value}"),
    "shape_not_calendar_date": ("{path}: {detail}", "{path}：{value} 不是日历上有的日期"),
    "shape_record_not_object": ("{path}: {detail}", "{path}：一条记录应为对象，实际是{got}"),
    "shape_record_fields": ("{path}: {detail}", "{path}：记录的字段不对：{fields}"),
    "shape_record_version": ("{path}: {detail}", "{path}：记录的版本 {value} 不是 1"),
    "shape_not_index": ("{path}: {detail}", "{path}：应为非负整数，实际是 {value}"),
    "shape_unknown_kind": ("{path}: {detail}", "{path}：未知的凭证类型 {value}"),
    "shape_bad_reverses": ("{path}: {detail}", "{path}：应为 null 或一个日志序号，实际是 {value}"),
    "shape_record_unbalanced": (
        "{path}: {detail}",
        "{path}：借方合计与贷方合计在 {units} 上不相等（这条记录不平衡）",
    ),
    "shape_private_shape": (
        "{path}: {detail}",
        "{path}：应为 null 或由 {{line, commitment}} 组成的非空数组",
    ),
    "shape_private_entry": ("{path}: {detail}", "{path}：每一项只能有 line 和 commitment"),
    "shape_private_line": ("{path}: {detail}", "{path}：应为 1 至 {n} 之间的行号，实际是 {value}"),
    "shape_private_order": ("{path}: {detail}", "{path}：行号必须从小到大且不重复"),
    "shape_commitment_hex": ("{path}: {detail}", "{path}：承诺值应为 64 位小写十六进制数字"),
    "shape_line_keys": (
        "{path}: {detail}",
        "{path}：每一行只能有 account、fund、unit、debit、credit 五项",
    ),
    "shape_line_account": ("{path}: {detail}", "{path}：应为科目代码"),
    "shape_line_fund": ("{path}: {detail}", "{path}：应为 null 或基金代码"),
    "shape_line_unit": ("{path}: {detail}", "{path}：应为计量单位"),
    "shape_line_amount": ("{path}: {detail}", "{path}：金额应为整数（以分计），实际是 {value}"),
    "shape_balance_twice": ("{path}: {detail}", "{path}：{what}的余额列了两次"),
    "shape_balance_zero": ("{path}: {detail}", "{path}：列出了{what}的零余额（零余额应省略）"),
    "shape_balance_order": (
        "{path}: {detail}",
        "{path}：各项没有按科目、基金（null 在前）、单位的顺序排列",
    ),
    "shape_normal_side": (
        "{path}: {detail}",
        "{path}：应为 debit（借）或 credit（贷），实际是 {value}",
    ),
    "shape_account_twice": ("{path}: {detail}", "{path}：科目 {account} 列了两次"),
    "shape_parent_missing": (
        "{path}: {detail}",
        "{path}：科目 {account} 的上级科目 {parent} 没有列出",
    ),
    "shape_parent_cycle": ("{path}: {detail}", "{path}：科目 {account} 的上级科目关系形成了循环"),
    "shape_account_unlisted": (
        "{path}: {detail}",
        "{path}：科目 {account} 有余额，但没有列在科目表中",
    ),
    "shape_line_kind": ("{path}: {detail}", "{path}：未知的报表行类型 {value}"),
    "shape_line_accounts": ("{path}: {detail}", "{path}：应为由 {{code, sign}} 组成的数组"),
    "shape_line_sign": ("{path}: {detail}", "{path}：符号只能是 1 或 -1，实际是 {value}"),
    "shape_line_sum": ("{path}: {detail}", "{path}：应为由行代码组成的数组"),
    "shape_line_sum_term": ("{path}: {detail}", "{path}：应为行代码（要减去时写作 -代码）"),
    "shape_line_memo": ("{path}: {detail}", "{path}：应为 true 或 false"),
    "shape_line_side": (
        "{path}: {detail}",
        "{path}：应为 left（左）或 right（右），实际是 {value}",
    ),
    "shape_line_heading": ("{path}: {detail}", "{path}：标题行不能有 accounts 或 sum"),
    "shape_line_heading_amount": ("{path}: {detail}", "{path}：标题行没有金额（应为 null）"),
    "shape_line_item_sum": ("{path}: {detail}", "{path}：明细行用 accounts，不用 sum"),
    "shape_line_total_sum": (
        "{path}: {detail}",
        "{path}：合计行（{kind}）需要 sum，不能有 accounts",
    ),
    "shape_line_key_twice": ("{path}: {detail}", "{path}：行代码 {key} 用了两次"),
    "shape_line_sum_unknown": ("{path}: {detail}", "{path}：{key} 加总了不存在的行 {term}"),
    "shape_line_sum_heading": ("{path}: {detail}", "{path}：{key} 加总了标题行 {term}"),
    "shape_line_sum_memo": (
        "{path}: {detail}",
        "{path}：{key} 加总了“其中”行 {term}（“其中”行不参与加总）",
    ),
    "shape_line_cycle": ("{path}: {detail}", "{path}：各行的加总经过 {term} 形成了循环"),
    "shape_hashes": ("{path}: {detail}", "{path}：应为由 base64 编码的哈希组成的数组"),
    "shape_hash_b64": ("{path}: {detail}", "{path}：应为 32 字节哈希的 base64 编码"),
    "shape_sheet_totals": ("{path}: {detail}", "{path}：分不清资产负债表左右两边的总计行"),
    "json_object": ("an object", "对象"),
    "json_array": ("an array", "数组"),
    "json_string": ("a string", "文本"),
    "json_integer": ("an integer", "整数"),
    "json_boolean": ("a boolean", "真假值"),
    "json_null": ("null", "null（空值）"),
    "json_number": ("a number", "小数"),
    "either": ("{a} or {b}", "{a}或{b}"),
    "fields_missing": ("missing {fields}", "缺少 {fields}"),
    "fields_extra": ("unexpected {fields}", "多出 {fields}"),
    "balance_of": ("{account} {unit}", "科目 {account}（{unit}）"),
    "balance_of_fund": ("{account} fund {fund} {unit}", "科目 {account}、基金 {fund}（{unit}）"),
    "unit_cny": ("CNY", "人民币"),
    # A signed note, checkpoint or key (tlog.notes.NoteError: "note_" + its code).
    "note_note_format": ("{detail}", "签名的格式不正确"),
    "note_key_format": ("{detail}", "公钥的格式不正确"),
    "note_checkpoint_format": ("{detail}", "检查点的格式不正确"),
    "note_not_base64": ("{detail}", "{what} 不是有效的 base64 编码"),
    "note_key_length": ("{detail}", "Ed25519 公钥应为 32 字节"),
    "note_key_name": ("{detail}", "公钥名称不正确：不能为空，不能有空格或“+”"),
    "note_vkey_form": ("{detail}", "核验公钥的格式应为“名称+密钥编号+base64”"),
    "note_vkey_type": ("{detail}", "核验公钥不是 Ed25519 公钥（应为类型 0x01 加 32 字节）"),
    "note_vkey_id": ("{detail}", "核验公钥中的密钥编号与它的名称和公钥不符"),
    "note_empty": ("{detail}", "签名的文本是空的"),
    "note_newline": ("{detail}", "签名的文本必须以换行结尾"),
    "note_control": ("{detail}", "签名的文本含有换行以外的控制字符"),
    "note_utf8": ("{detail}", "签名的文本不是有效的 UTF-8 文本"),
    "note_not_text": ("{detail}", "签名应为一段文本"),
    "note_too_long": ("{detail}", "签名的文本超过 {n} 个字符"),
    "note_no_signatures": ("{detail}", "没有签名：签名的文本后面没有签名行"),
    "note_too_many": ("{detail}", "签名超过 {n} 个"),
    "note_sig_line": ("{detail}", "第 {n} 个签名行的格式不正确"),
    "note_signature_invalid": (
        "{detail}",
        "{name} 的签名与这个公钥对不上：签名的内容被改动过，或不是用这个公钥签的",
    ),
    "note_signature_missing": (
        "{detail}",
        "没有 {name} 用这个公钥所做的签名（签名者：{signers}）",
    ),
    "nobody": ("nobody", "无"),
    "note_what_vkey": ("verifier key", "核验公钥"),
    "note_checkpoint_lines": ("{detail}", "检查点应有 3 行，这一个有 {n} 行"),
    "note_checkpoint_origin": ("{detail}", "检查点的第一行（日志名称）是空的或含有空格"),
    "note_checkpoint_size": ("{detail}", "检查点的大小 {value} 不是十进制整数"),
    "note_checkpoint_root": ("{detail}", "检查点的根不是 32 字节的 base64 编码"),
    # A proof (tlog.merkle.VerificationError: "merkle_" + its check).
    "merkle_bad_size": ("{detail} [{check}]", "证明所用的日志大小不正确"),
    "merkle_hash_length": ("{detail} [{check}]", "证明中有哈希不是 32 字节"),
    "merkle_proof_format": ("{detail} [{check}]", "证明应为哈希的列表"),
    "merkle_index_out_of_range": ("{detail} [{check}]", "序号超出了已签名日志的范围"),
    "merkle_proof_length": ("{detail} [{check}]", "证明中的哈希个数不对"),
    "merkle_proof_too_long": ("{detail} [{check}]", "证明中的哈希比日志树的层数还多"),
    "merkle_proof_too_short": ("{detail} [{check}]", "证明还没到达根就结束了"),
    "merkle_root_mismatch": ("{detail} [{check}]", "由证明算出的根与签名的根不一致"),
    "merkle_old_size_zero": ("{detail} [{check}]", "不接受从空日志开始的一致性证明"),
    "merkle_old_size_gt_new_size": ("{detail} [{check}]", "上一个日志比现在的日志还大"),
    "merkle_equal_sizes_nonempty_proof": ("{detail} [{check}]", "两个日志大小相同，证明却不是空的"),
    "merkle_equal_sizes_root_mismatch": ("{detail} [{check}]", "两个日志大小相同，根却不同"),
    "merkle_proof_empty": ("{detail} [{check}]", "一致性证明是空的，但日志变大了"),
    "merkle_old_root_mismatch": (
        "{detail} [{check}]",
        "由一致性证明算出的旧根与上一个检查点的根不一致",
    ),
    "merkle_new_root_mismatch": (
        "{detail} [{check}]",
        "由一致性证明算出的新根与本检查点的根不一致",
    ),
    "merkle_other": ("{detail} [{check}]", "证明不成立"),
    "canonical": (
        "{detail}",
        "无法转换为规范 JSON（记录中只能有整数、文本、null、数组和对象）",
    ),
    "bad_value": ("{detail}", "文件中有一个值不符合格式要求"),
    "missing_key": ("missing {detail}", "缺少 {detail}"),
    "too_deep": ("input is nested too deeply", "文件的嵌套层数太多"),
    "unexpected_error": ("unexpected error ({kind}): {detail}", "核验工具遇到意外错误（{kind}）"),
    # ----------------------------------------------------------- reading the files
    "doc_previous": ("previous", "上一份报告"),
    "doc_file": ("file", "文件"),
    "file_what": ("{doc} {path}", "{doc} {path}"),
    "key_file": ("--key file {path}", "--key 文件 {path}"),
    "input_not_utf8": (
        "{what}: not UTF-8 text (byte {pos})",
        "{what}：不是 UTF-8 文本（第 {pos} 个字节）",
    ),
    "input_not_json": (
        "{what}: not valid JSON ({detail} at line {line} column {col})",
        "{what}：不是有效的 JSON（第 {line} 行第 {col} 列有错）：文件不完整或被改坏了",
    ),
    "input_too_deep": ("{what}: JSON nested too deeply", "{what}：JSON 的嵌套层数太多"),
    "input_duplicate": (
        "{what}: object has the key {key!r} twice",
        "{what}：同一个对象里 {key!r} 出现了两次",
    ),
    "input_constant": ("{what}: {name} is not a JSON number", "{what}：{name} 不是 JSON 数字"),
    "input_value": ("{what}: {detail}", "{what}：有一个值无法读取"),
    "input_too_large": (
        "{what}: {size} bytes is larger than the 512 MiB limit",
        "{what}：文件有 {size} 字节，超过了 512 MiB 的上限",
    ),
    "input_larger": ("{what}: larger than the 512 MiB limit", "{what}：文件超过了 512 MiB 的上限"),
    "input_cannot_read": ("{what}: cannot read ({detail})", "{what}：无法读取这个文件（{detail}）"),
    "input_key_too_large": ("{what}: too large for a key file", "{what}：作为公钥文件太大了"),
    "input_not_text": ("{what}: not UTF-8 text", "{what}：不是 UTF-8 文本"),
    "input_json": (
        "{what}: not valid JSON ({detail})",
        "{what}：不是有效的 JSON：文件不完整或被改坏了",
    ),
    "input_http": ("{what}: HTTP {status}", "{what}：无法从本网站取得（HTTP {status}）"),
    "source_key_field": ("the key field", "公钥栏"),
    "note_no_ed25519": (
        "{detail}",
        "这个浏览器无法核对 Ed25519 签名，请换用较新的浏览器或命令行核验工具",
    ),
    "input_key_field": (
        '{what}: a JSON key needs an "ed25519" field',
        "{what}：JSON 格式的公钥需要“ed25519”一项",
    ),
    "input_key_fingerprint": (
        '{what}: "ed25519" is the key in base64, not its fingerprint',
        "{what}：“ed25519”应是 base64 编码的公钥本身，而不是它的指纹",
    ),
    "input_key_invalid": (
        "{what}: not a key (expected base64 of 32 bytes, a 64-hex-digit fingerprint, "
        "or name+keyid+base64)",
        "{what}：不是公钥（应为 32 字节的 base64 编码、64 位十六进制的指纹，"
        "或“名称+密钥编号+base64”形式的核验公钥）",
    ),
    "input_key_error": ("{what}: {error}", "{what}：{error}"),
    "input_format_other": (
        "{what}: format is {found!r}, this verifier reads {want!r}",
        "{what}：格式是 {found!r}，本核验工具只读取 {want!r}",
    ),
    "input_format_none": (
        '{what}: not a Commons Ledger {want} document (no "format")',
        "{what}：不是社区公账的 {want} 文件（没有“format”一项）",
    ),
    "input_previous_alone": (
        "a previous report needs the report that follows it, to compare with",
        "只给了上一份报告：还需要要核验的那份报告",
    ),
    "input_nothing": (
        "nothing to verify: give a report's bundle and/or a receipt",
        "没有要核验的内容：请提供报告的数据包和/或回执",
    ),
    # ----------------------------------------------------------- the checks' own findings
    "book_id_positive": (
        "book.id {id} is not a positive integer",
        "账簿编号 book.id 是 {id}，不是正整数",
    ),
    "period_order": (
        "period starts {start} after it ends {end}",
        "期间的开始日期 {start} 晚于结束日期 {end}",
    ),
    "pk_length": (
        "public_key.ed25519 is {n} bytes, an Ed25519 key is 32",
        "公钥 public_key.ed25519 有 {n} 字节，Ed25519 公钥应为 32 字节",
    ),
    "pk_fingerprint": (
        "public_key.fingerprint is not the SHA-256 of public_key.ed25519",
        "公钥指纹 public_key.fingerprint 不是公钥 public_key.ed25519 的 SHA-256",
    ),
    "key_named": (
        "{what}'s public_key is named {name!r}, not {origin!r}",
        "{what}的公钥名称是 {name!r}，不是日志名称 {origin!r}",
    ),
    "key_none": (
        "no usable key: {error}; give the organisation's published key",
        "没有可用的公钥：{error}；请提供机构公布的公钥",
    ),
    "key_fp_unusable": (
        "only a fingerprint was given and the {what}'s key is unusable: {error}",
        "只提供了指纹，而{what}自带的公钥无法使用：{error}",
    ),
    "key_own_action": (
        "pass --key with the verifier key shown on the organisation's page (its fingerprint "
        "should read {fp}: compare it with the one posted at the community office)",
        "用 --key 加上机构页面上的“核验公钥”重新运行（它的指纹应为 {fp}："
        "请先与社区公示栏上张贴的指纹核对）。",
    ),
    "origin_action": (
        "pass --key with the verifier key shown on the organisation's page (it names the "
        "origin), or --origin {origin} after comparing it with that page",
        "用 --key 加上机构页面上的“核验公钥”重新运行（它写明了日志名称），"
        "或与该页面核对后用 --origin {origin}。",
    ),
    "opening_action": (
        "pass --previous with the organisation's report for the period ending {end} "
        "(its bundle, from the organisation's page)",
        "用 --previous 加上截至 {end} 那一期报告的数据包（在机构页面上下载）重新运行。",
    ),
    "no_trusted_key": (
        "no trusted key to check the signature with (see the {check} check)",
        "没有可信的公钥来核对签名（见 {check} 检查）",
    ),
    "checkpoint_other": (
        "checkpoint is for {origin!r}, {mismatch}",
        "检查点属于 {origin!r}，{mismatch}",
    ),
    "bundle_is_book": (
        "this bundle is book {book} ({origin!r})",
        "本报告是账簿 {book}（{origin!r}）",
    ),
    "origin_not_book": (
        "the checkpoint's origin {origin!r} does not name book {book} as "
        "<host>/commons-ledger/<book id>",
        "检查点的日志名称 {origin!r} 没有按“<网站>/commons-ledger/<账簿编号>”写明账簿 {book}",
    ),
    "no_signature": (
        'the bundle has no "signature": its statements and labels are not signed',
        "报告没有签名（缺少“signature”）：它的报表和各项名称都没有签名",
    ),
    "sig_lines": (
        "the signed text has {n} lines, a bundle signature has 3",
        "签名的文本有 {n} 行，报告的签名应有 3 行",
    ),
    "first_index_negative": (
        "log.first_index {first} is negative",
        "本期第一条记录的序号（log.first_index）是 {first}，不能是负数",
    ),
    "record_position": (
        "{path}: index is {index}, its position says {want}",
        "{path}：序号是 {index}，按它在报告中的位置应为 {want}",
    ),
    "record_book": (
        "{path}: book is {book}, not {want}",
        "{path}：属于账簿 {book}，不是账簿 {want}",
    ),
    "record_canonical": (
        "{path}: cannot be canonicalised ({error})",
        "{path}：无法转换为规范 JSON（{error}）",
    ),
    "root_unreadable": (
        "cannot compute the root: the records could not be read",
        "无法计算日志根：记录无法读取",
    ),
    "previous_missing": (
        "bundle.previous: missing (null for a book's first report)",
        "缺少 bundle.previous（上一份报告；账簿的第一份报告写 null）",
    ),
    "previous_first_index": (
        "no previous report, yet the log starts at index {first} (not 0)",
        "没有上一份报告，本期记录却不是从日志的第一条开始（而是从序号 {first} 开始）",
    ),
    "previous_not_object": (
        "bundle.previous: expected an object or null",
        "bundle.previous（上一份报告）应为对象或 null",
    ),
    "previous_no_key": (
        "no trusted key to check its signature with",
        "没有可信的公钥来核对它的签名",
    ),
    "previous_signature": ("signature: {error}", "签名：{error}"),
    "previous_other_origin": (
        "it is for {origin!r}, not {want!r}",
        "它属于 {origin!r}，不是 {want!r}",
    ),
    "previous_size": (
        "its size {size} is not log.first_index {first}",
        "上一份报告的日志有 {size} 条记录，但本期记录从序号 {first} 开始（两者应相同）",
    ),
    "previous_period": (
        "previous period_end {end} is not before this period's start {start}",
        "上一期的结束日期 {end} 不在本期的开始日期 {start} 之前",
    ),
    "consistency_from_empty": (
        "a proof from the empty log must be empty",
        "从空日志开始的证明必须是空的",
    ),
    "needs_first_index": (
        "needs log.first_index",
        "需要本期第一条记录的序号（log.first_index）",
    ),
    "compact_count": (
        "a compact range of {first} leaves has {want} hashes, got {got}",
        "本期之前有 {first} 条记录，压缩区间应有 {want} 个哈希，实际有 {got} 个",
    ),
    "needs_previous_checkpoint": ("needs the previous checkpoint", "需要上一个检查点"),
    "carried_missing": (
        "bundle.carried_records: missing",
        "缺少 bundle.carried_records（从以前报告转入的记录）",
    ),
    "carried_in_first": (
        "the first report of a book cannot carry records from an earlier one",
        "账簿的第一份报告不能有从以前报告转入的记录",
    ),
    "carried_needs_all": (
        "needs the checkpoint, log.first_index and the previous period end",
        "需要检查点、本期第一条记录的序号和上一期的结束日期",
    ),
    "carried_not_before": (
        "{path}: index {index} is not before log.first_index {first}",
        "{path}：序号 {index} 不在本期第一条记录（序号 {first}）之前",
    ),
    "carried_order": (
        "{path}: index {index} repeats or is out of order (after {last})",
        "{path}：序号 {index} 重复或顺序不对（前一条是 {last}）",
    ),
    "carried_date": (
        "{path}: dated {date}, not after the previous period's end {end}",
        "{path}：日期是 {date}，不在上一期结束日期 {end} 之后",
    ),
    "carried_proof": ("{path}: inclusion proof fails: {error}", "{path}：包含证明不成立：{error}"),
    "record_dates_early": (
        "{n} records dated before {start} were posted after their month's report "
        "({numbers}); they count in this period",
        "{n} 条日期在 {start} 之前的记录是在当月报告发布之后才记账的（{numbers}）；它们计入本期",
    ),
    "statements_not_array": (
        "bundle.statements: expected an array",
        "bundle.statements（报表）应为数组",
    ),
    "statements_custom": (
        "an imported (CUSTOM) chart has no statements",
        "导入的自定义科目表（CUSTOM）没有报表",
    ),
    "statements_none": ("the bundle has no statements", "报告中没有报表"),
    "receipt_no_commitments": (
        "the record has no private commitment, so this receipt proves nothing private",
        "记录中没有个人信息的承诺值，所以这张回执不能证明任何个人信息",
    ),
    "receipt_private_not_array": (
        "record.private is not an array of line commitments",
        "record.private 不是各行承诺值的数组",
    ),
    "receipt_private_keys": (
        "{path} has exactly line, resident, name, unit and salt",
        "{path} 只能有 line、resident、name、unit 和 salt 五项",
    ),
    "receipt_salt_length": (
        "{path}.salt is {n} bytes, not 16",
        "{path}.salt（盐）有 {n} 字节，应为 16 字节：回执中的盐不完整或被改动过",
    ),
    "receipt_line_range": (
        "{path}.line {line} is not a line of the record (1..{n})",
        "{path}.line：第 {line} 行不是这条记录里的行（应在第 1 至 {n} 行之间）",
    ),
    "receipt_line_twice": (
        "{path}.line {line} appears twice in the receipt",
        "{path}.line：第 {line} 行在回执中出现了两次",
    ),
}


class Msg(str):
    """A check's detail: its English text (the ``str`` value, so every English output and
    ``--json`` are unchanged) with the ``MESSAGES`` key and parameters that render it in
    Chinese too."""

    key: str
    params: dict[str, object]

    def __new__(cls, key: str, /, **params: object) -> Msg:
        self = super().__new__(cls, _render(key, params, "en"))
        self.key, self.params = key, params
        return self

    def render(self, lang: str) -> str:
        return _render(self.key, self.params, lang)


def msg(message_id: str, /, **params: object) -> Msg:
    return Msg(message_id, **params)


def _render(message_id: str, params: dict[str, object], lang: str) -> str:
    template = MESSAGES[message_id][1 if lang == "zh" else 0]
    return template.format(**{k: _param(v, lang) for k, v in params.items()})


def _param(value: object, lang: str) -> str:
    if isinstance(value, Msg):
        return value.render(lang)
    if isinstance(value, list):
        return ("；" if lang == "zh" else "; ").join(_param(v, lang) for v in value)
    if isinstance(value, tuple):  # a list joined with commas
        return ("、" if lang == "zh" else ", ").join(_param(v, lang) for v in value)
    return str(value)


_FIELD = re.compile(r"\{\{|\}\}|\{(\w+)(!r)?\}")


def page_messages(lang: str) -> dict[str, str]:
    """``MESSAGES`` in one language as the browser verifier's templates: ``%(name)s`` for each
    parameter (``{name!r}`` quoted), so the page and the command line say the same thing
    (templates/transparency/_verify_messages.html is generated from this)."""

    def js(template: str) -> str:
        def field(m: re.Match[str]) -> str:
            if m.group(0) in ("{{", "}}"):
                return m.group(0)[0]
            return f"'%({m.group(1)})s'" if m.group(2) else f"%({m.group(1)})s"

        return _FIELD.sub(field, template)

    return {k: js(v[1 if lang == "zh" else 0]) for k, v in MESSAGES.items()}


def in_lang(text: str, lang: str) -> str:
    """A detail in ``lang``: a ``Msg`` rendered from its template, any other text as it is."""
    return text.render(lang) if isinstance(text, Msg) else text


# =========================================================================== results


@dataclass(frozen=True)
class Check:
    check: str
    status: str
    message: str
    action: str = ""  # what the user does so that this check runs fully

    def line(self) -> str:
        line = f"{self.status} {self.check}: {self.message}"
        return line + (f"\n    → {self.action}" if self.action else "")

    @property
    def incomplete(self) -> bool:
        """Did not run (SKIP), or ran without something only the user can give (``action``).
        The checks of the previous report (``previous.…``) vouch for that report, not this
        one: its own missing predecessor does not make this report partly checked."""
        if self.check.startswith("previous.") and not self.action:
            return False
        return self.status == SKIP or bool(self.action)


class _Outcome(Exception):
    """Raised inside a check to end it with a status other than PASS."""

    def __init__(self, status: str, message: str, action: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.action = action


def fail(message: str) -> _Outcome:
    return _Outcome(FAIL, message)


def skip(message: str, action: str = "") -> _Outcome:
    return _Outcome(SKIP, message, action)


def warn(message: str, action: str = "") -> _Outcome:
    return _Outcome(WARN, message, action)


yuan = bm.format_amount


# Errors that mean "the input is wrong", reported as the check's failure message.
_EXPECTED = (
    bm.ShapeError,
    notes.NoteError,
    merkle.VerificationError,
    jcs.CanonicalizationError,
    ValueError,
    KeyError,
    TypeError,
)


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    input_errors: list[str] = field(default_factory=list)

    def add(self, check: str, status: str, message: str, action: str = "") -> None:
        self.checks.append(Check(check, status, message, action))

    def run(self, name: str, fn: Callable[[], str | None]) -> bool:
        """Run one check; a returned string is its PASS message. True only on PASS/WARN."""
        try:
            message = fn()
        except _Outcome as o:
            self.add(name, o.status, o.message, o.action)
            return o.status in (PASS, WARN)
        except _EXPECTED as e:
            self.add(name, FAIL, _describe(e))
            return False
        except RecursionError:
            self.add(name, FAIL, msg("too_deep"))
            return False
        except Exception as e:  # never a traceback, whatever the input
            self.add(name, FAIL, msg("unexpected_error", kind=type(e).__name__, detail=e))
            return False
        self.add(name, PASS, message or "ok")
        return True

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def incomplete(self) -> list[Check]:
        return [c for c in self.checks if c.incomplete]

    @property
    def verdict(self) -> str:
        """verified only when every check that makes the claim ran, with a trusted key."""
        if self.input_errors or self.failed or not self.checks:
            return NOT_VERIFIED
        return PARTLY_CHECKED if self.incomplete else VERIFIED

    @property
    def exit_code(self) -> int:
        if self.input_errors:
            return 2
        if self.failed:
            return 1
        return 3 if self.incomplete else 0

    def text(self) -> str:
        lines = [f"FAIL input: {e}" for e in self.input_errors]
        lines += [c.line() for c in self.checks]
        if self.input_errors:
            lines.append("NOT VERIFIED: an input could not be read")
        elif self.failed:
            lines.append(f"NOT VERIFIED: {len(self.failed)} of {len(self.checks)} checks failed")
        elif self.incomplete:
            lines.append(
                f"PARTLY CHECKED: nothing failed, but {len(self.incomplete)} of "
                f"{len(self.checks)} checks did not run fully; to complete them:"
            )
            lines += [f"  - {c.check}: {c.action or c.message}" for c in self.incomplete]
        else:
            lines.append(f"VERIFIED: {len(self.checks)} checks, every one ran and passed")
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {
            "ok": self.exit_code == 0,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "input_errors": list(self.input_errors),
            "checks": [
                {"check": c.check, "status": c.status, "message": c.message}
                | ({"action": c.action} if c.action else {})
                for c in self.checks
            ],
        }


def _describe(e: BaseException) -> Msg:
    """An exception from reading a document (tlog's, or a check's own) as a message: its
    English text as it was, and its meaning in Chinese from its stable code."""
    if isinstance(e, _Outcome):
        return e.message if isinstance(e.message, Msg) else msg("bad_value", detail=e.message)
    if isinstance(e, bm.ShapeError):
        key = f"shape_{e.code}"
        params = {k: _shape_param(k, v) for k, v in e.params.items()}
        if e.code == "record_fields":
            parts = [msg("fields_missing", fields=params["missing"])] if params["missing"] else []
            if params["extra"]:
                parts.append(msg("fields_extra", fields=params["extra"]))
            params["fields"] = msg("list", items=parts)
        if e.code in ("balance_twice", "balance_zero"):
            params["what"] = _balance_label((params["account"], params["fund"], params["unit"]))
        return msg(
            key if key in MESSAGES else "shape_shape", path=e.path, detail=e.detail, **params
        )
    if isinstance(e, notes.NoteError):
        key = f"note_{e.code}"
        params = dict(e.params)
        if "signers" in params:
            signers = params["signers"]
            params["signers"] = tuple(signers) if signers else msg("nobody")  # type: ignore[arg-type]
        if params.get("what") == "verifier key":
            params["what"] = msg("note_what_vkey")
        return msg(key if key in MESSAGES else f"note_{e.check}", detail=e.detail, **params)
    if isinstance(e, merkle.VerificationError):
        key = f"merkle_{e.check}"
        return msg(key if key in MESSAGES else "merkle_other", detail=e.detail, check=e.check)
    if isinstance(e, jcs.CanonicalizationError):
        return msg("canonical", detail=str(e))
    if isinstance(e, KeyError):
        return msg("missing_key", detail=str(e))
    if isinstance(e, RecursionError):
        return msg("too_deep")
    return msg("bad_value", detail=str(e))


def _shape_param(name: str, value: object) -> object:
    """A ShapeError parameter as a message part: JSON type names and balance keys in words."""
    if name == "got" and isinstance(value, str):
        return msg(f"json_{value}") if f"json_{value}" in MESSAGES else value
    if name == "expected" and isinstance(value, tuple):
        names = [msg(f"json_{t}") if f"json_{t}" in MESSAGES else t for t in value]
        return (
            names[0]
            if len(names) == 1
            else msg("either", a=names[0], b=msg("list", items=names[1:]))
        )
    if name in ("units", "missing", "extra") and isinstance(value, tuple):
        return tuple(value)
    return value


def _balance_label(key: tuple) -> Msg:
    account, fund, unit = key
    u = msg("unit_cny") if unit == bm.BASE_UNIT else unit
    if fund is None:
        return msg("balance_of", account=account, unit=u)
    return msg("balance_of_fund", account=account, fund=fund, unit=u)


# =========================================================================== reading input


class InputError(Exception):
    """An input file could not be read as one of our JSON documents (exit code 2)."""

    def __init__(self, message: Msg) -> None:
        super().__init__(message)
        self.message = message


class _JsonProblem(ValueError):
    """A duplicate key or a NaN/Infinity: what the JSON parser's hooks refuse."""

    def __init__(self, message_id: str, **params: object) -> None:
        super().__init__(message_id)
        self.message_id, self.params = message_id, params


def _reject_constant(name: str) -> object:
    raise _JsonProblem("input_constant", name=name)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _JsonProblem("input_duplicate", key=dup)
    return out


def parse_json_bytes(data: bytes, what: str) -> Any:  # what: a str or a Msg
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys (two readers must never see two
    different documents in the same bytes)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(msg("input_not_utf8", what=what, pos=e.start)) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise InputError(
            msg("input_not_json", what=what, detail=e.msg, line=e.lineno, col=e.colno)
        ) from None
    except RecursionError:
        raise InputError(msg("input_too_deep", what=what)) from None
    except _JsonProblem as e:
        raise InputError(msg(e.message_id, what=what, **e.params)) from None
    except ValueError as e:  # a number too long to convert
        raise InputError(msg("input_value", what=what, detail=e)) from None


def load_json(path: str, what: str) -> Any:
    """Read and parse one input file; any problem is an :class:`InputError`."""
    doc = msg(f"doc_{what}") if f"doc_{what}" in MESSAGES else what
    where = msg("file_what", doc=doc, path=path)
    try:
        with open(path, "rb") as fh:
            try:
                size = os.fstat(fh.fileno()).st_size
            except OSError:
                size = 0
            if size > MAX_INPUT_BYTES:
                raise InputError(msg("input_too_large", what=where, size=size))
            data = fh.read(MAX_INPUT_BYTES + 1)
    except InputError:
        raise
    except OSError as e:
        raise InputError(msg("input_cannot_read", what=where, detail=e.strerror or e)) from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(msg("input_larger", what=where))
    return parse_json_bytes(data, where)


def document_format(doc: object) -> str | None:
    return doc.get("format") if type(doc) is dict and type(doc.get("format")) is str else None


# =========================================================================== keys


@dataclass(frozen=True)
class TrustedKey:
    """What the user told us to trust: the key itself, or only its fingerprint."""

    raw: bytes | None
    fingerprint: str
    source: str
    name: str | None = None  # the key name = the log's origin, when the key form carries it


def parse_key(value: str) -> TrustedKey:
    """``--key``: a file, or base64 of 32 bytes, a hex fingerprint, a verifier key, or a
    ``public_key`` JSON object. Raises InputError when it is none of those."""
    source: str = "--key"
    text = value
    if os.path.isfile(value):
        try:
            with open(value, "rb") as fh:
                data = fh.read(MAX_KEY_FILE_BYTES + 1)
        except OSError as e:
            where = msg("file_what", doc="--key", path=value)
            raise InputError(msg("input_cannot_read", what=where, detail=e.strerror or e)) from None
        source = msg("key_file", path=value)
        if len(data) > MAX_KEY_FILE_BYTES:
            raise InputError(msg("input_key_too_large", what=source))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(msg("input_not_text", what=source)) from None
    text = text.strip()
    if text.startswith("{"):
        doc = parse_json_bytes(text.encode("utf-8"), source)
        if type(doc) is dict and type(doc.get("public_key")) is dict:
            doc = doc["public_key"]  # a whole bundle or receipt was given: take its key
        if type(doc) is not dict or type(doc.get("ed25519")) is not str:
            raise InputError(msg("input_key_field", what=source))
        name = doc.get("name") if type(doc.get("name")) is str else None
        text = doc["ed25519"].strip()
        if _HEX64.fullmatch(text):
            raise InputError(msg("input_key_fingerprint", what=source))
        key = parse_key_text(text, source)
        return TrustedKey(key.raw, key.fingerprint, source, name)
    return parse_key_text(text, source)


def parse_key_text(text: str, source: str) -> TrustedKey:
    """A fingerprint, a verifier key ``name+id+base64`` (which names the origin) or base64."""
    if _HEX64.fullmatch(text):
        return TrustedKey(None, text.lower(), source)
    if _VKEY.match(text):
        try:
            name, raw = notes.parse_vkey(text)
        except notes.NoteError as e:
            raise InputError(msg("input_key_error", what=source, error=_describe(e))) from None
        return TrustedKey(raw, hashlib.sha256(raw).hexdigest(), source, name)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise InputError(msg("input_key_invalid", what=source))
    return TrustedKey(raw, hashlib.sha256(raw).hexdigest(), source)


def _public_key_field(doc: dict, where: str) -> tuple[str, bytes]:
    """(name, 32 bytes) of a bundle's or receipt's ``public_key``, self-consistent."""
    pk = bm.require(doc, "public_key", dict, where)
    name = bm.require(pk, "name", str, f"{where}.public_key")
    b64 = bm.require(pk, "ed25519", str, f"{where}.public_key")
    fp = bm.require(pk, "fingerprint", str, f"{where}.public_key")
    raw = notes.b64decode(b64, "public_key.ed25519")
    if len(raw) != 32:
        raise fail(msg("pk_length", n=len(raw)))
    if fp.lower() != hashlib.sha256(raw).hexdigest():
        raise fail(msg("pk_fingerprint"))
    return name, raw


def _choose_key(
    own: tuple[str, bytes] | None,
    own_error: str | None,
    origin: str,
    user: TrustedKey | None,
    what: str,
) -> tuple[bytes | None, _Outcome | str]:
    """The key to check signatures with, and this check's outcome."""
    doc = (
        msg("doc_receipt" if what == "receipt" else "doc_bundle")
        if what in ("bundle", "receipt")
        else what
    )
    if own is not None and own[0] != origin:
        problem = msg("key_named", what=doc, name=own[0], origin=origin)
        return (user.raw if user else None), fail(problem)
    if user is None:
        if own is None:
            return None, fail(msg("key_none", error=own_error))
        fp = hashlib.sha256(own[1]).hexdigest()
        return own[1], warn(
            msg("key_own", what=doc, fp=fp),
            msg("key_own_action", fp=fp),
        )
    if user.raw is not None:
        if own is not None and own[1] != user.raw:
            return user.raw, fail(
                msg(
                    "key_not_given",
                    what=doc,
                    own=hashlib.sha256(own[1]).hexdigest(),
                    source=user.source,
                    fp=user.fingerprint,
                )
            )
        return user.raw, msg("key_given", source=user.source, fp=user.fingerprint)
    if own is None:
        return None, fail(msg("key_fp_unusable", what=doc, error=own_error))
    if hashlib.sha256(own[1]).hexdigest() != user.fingerprint:
        return None, fail(
            msg(
                "key_fp_differs",
                what=doc,
                own=hashlib.sha256(own[1]).hexdigest(),
                fp=user.fingerprint,
                source=user.source,
            )
        )
    return own[1], msg("key_fp_pass", what=doc, source=user.source)


# =========================================================================== helpers


def _b64_hashes(value: object, path: str) -> list[bytes]:
    if type(value) is not list:
        raise bm.ShapeError(path, "expected an array of base64 hashes", "hashes")
    out = []
    for i, h in enumerate(value):
        raw = notes.b64decode(h, f"{path}[{i}]") if type(h) is str else b""
        if len(raw) != merkle.HASH_SIZE:
            raise bm.ShapeError(f"{path}[{i}]", "expected base64 of a 32-byte hash", "hash_b64")
        out.append(raw)
    return out


def _claimed_origin(doc: dict) -> str | None:
    """The origin a document claims: its checkpoint's first line, else its key's name."""
    try:
        return _open_checkpoint(doc.get("checkpoint"), "checkpoint").origin
    except (notes.NoteError, ValueError, TypeError):
        pass
    pk = doc.get("public_key")
    return pk["name"] if type(pk) is dict and type(pk.get("name")) is str else None


def _open_checkpoint(note: object, where: str) -> notes.Checkpoint:
    """The checkpoint in a signed note, before (or without) checking the signature."""
    parsed = notes.parse_note(note)
    return notes.parse_checkpoint(parsed.text)


def _indices(indices: list[int]) -> Msg:
    """Log indices as a list: the first five, then how many more (in either language)."""
    return _problems([str(i) for i in indices])


def _diff_balances(
    expected: dict[Any, int], actual: dict[Any, int], key: str, limit: int = 5
) -> list[str]:
    """``bm.diff_balances`` as messages: each balance that differs, amounts in yuan."""
    keys = sorted(set(expected) | set(actual), key=bm._sort_key)
    diffs: list[str] = [
        msg(
            key,
            what=_balance_label(k),
            recomputed=yuan(expected.get(k, 0), k[2]),
            stated=yuan(actual.get(k, 0), k[2]),
        )
        for k in keys
        if expected.get(k, 0) != actual.get(k, 0)
    ]
    if len(diffs) > limit:
        return [msg("list_and_more", items=diffs[:limit], more=len(diffs) - limit)]
    return diffs


def _problems(items: Sequence[str], total: int | None = None, limit: int = 5) -> Msg:
    total = len(items) if total is None else total
    if total > limit:
        return msg("list_more", items=list(items[:limit]), more=total - limit)
    return msg("list", items=list(items))


# =========================================================================== bundles


class _SignedDocument:
    """What a bundle and a receipt check alike: which key to trust, the checkpoint's signature
    and its origin. A subclass names its document (``what``), how a check says the book is not
    known yet (``needs_book``), where the key check is (``key_check``) and how a wrong origin is
    described (``origin_mismatch``)."""

    what = ""
    prefix = ""  # "previous." for the report before the one being verified
    needs_book = ""
    key_check = ""
    doc: dict
    origin: str | None
    expected_origin: str | None  # what the organisation's page states (given by the user)
    book_id: int | None
    user_key: TrustedKey | None
    key: bytes | None
    cp: notes.Checkpoint | None

    def set_origin(self, book_id: int) -> None:
        """The origin to check signatures against: the one the user gave, else the one the
        document claims (checked against the book and, by check_origin, the user's)."""
        self.book_id = book_id
        self.origin = self.expected_origin or _claimed_origin(self.doc)
        if self.origin is None:
            self.origin = notes.origin_for("<unknown host>", book_id)

    def origin_mismatch(self) -> str:
        raise NotImplementedError

    def choose_key(self) -> str | _Outcome:
        """Set ``self.key``; return the check's message or the outcome to raise."""
        if self.origin is None:
            raise skip(self.needs_book)
        own, err = None, None
        try:
            own = _public_key_field(self.doc, self.what)
        except (_Outcome, bm.ShapeError, notes.NoteError) as e:
            err = _describe(e)
        self.key, outcome = _choose_key(own, err, self.origin, self.user_key, self.what)
        return outcome

    def check_key(self) -> str:
        outcome = self.choose_key()
        if isinstance(outcome, _Outcome):
            raise outcome
        return outcome

    def check_signature(self) -> str:
        if self.origin is None:
            raise skip(self.needs_book)
        note = bm.require(self.doc, "checkpoint", str, self.what)
        # Parse first, so later checks can say precisely what else is wrong even when the
        # signature fails; nothing is *trusted* unless this check passes.
        self.cp = _open_checkpoint(note, f"{self.what}.checkpoint")
        if self.key is None:
            raise fail(msg("no_trusted_key", check=self.key_check))
        notes.verify_note(note, self.origin, self.key)
        return msg("cp_signed", size=self.cp.size, origin=self.origin)

    def check_origin(self) -> str:
        if self.cp is None or self.origin is None:
            raise skip(msg("needs_checkpoint"))
        if self.cp.origin != self.origin:
            raise fail(
                msg("checkpoint_other", origin=self.cp.origin, mismatch=self.origin_mismatch())
            )
        if notes.book_of_origin(self.cp.origin) != self.book_id:
            raise fail(msg("origin_not_book", origin=self.cp.origin, book=self.book_id))
        if self.expected_origin is None and self.prefix:
            raise skip(msg("origin_previous", origin=self.origin))
        if self.expected_origin is None:
            raise skip(
                msg("origin_unchecked", origin=self.origin),
                msg("origin_action", origin=self.origin),
            )
        return msg("origin_pass", origin=self.origin)


class BundleVerifier(_SignedDocument):
    """All checks of one disclosure bundle; results go to ``report`` as ``<prefix><check>``."""

    what = "bundle"
    needs_book = "needs the book id (bundle_header)"
    key_check = "key"

    def origin_mismatch(self) -> str:
        return msg("bundle_is_book", book=self.book_id, origin=self.origin)

    def __init__(
        self,
        bundle: dict,
        report: Report,
        user_key: TrustedKey | None,
        prefix: str = "",
        previous: dict | None = None,
        origin: str | None = None,
    ):
        self.b = self.doc = bundle
        self.expected_origin = origin or (user_key.name if user_key else None)
        self.prev_bundle = previous
        self.report = report
        self.user_key = user_key
        self.prefix = prefix
        self.book_id: int | None = None
        self.origin: str | None = None
        self.period_start: dt.date | None = None
        self.period_end: dt.date | None = None
        self.key: bytes | None = None
        self.cp: notes.Checkpoint | None = None
        self.first_index: int | None = None
        self.records: list | None = None
        self.record_dates: list[dt.date] | None = None
        self.leaf_hashes: list[bytes] | None = None
        self.leaf_data: dict[int, bytes] = {}  # id(record) → leaf bytes of checked records
        self.records_ok = False
        self.prev_cp: notes.Checkpoint | None = None
        self.prev_end: dt.date | None = None
        self.is_first_report: bool | None = None
        self.carried: list[dict] | None = None
        self.carried_dates: list[dt.date] = []
        self.accounts: dict[str, bm.Account] | None = None
        self.opening: dict | None = None
        self.closing: dict | None = None
        self.movement: dict | None = None
        self.statement_amounts: dict[str, tuple[list[bm.StatementLine], dict[str, int]]] = {}

    def run(self, name: str, fn: Callable[[], str | None]) -> bool:
        return self.report.run(self.prefix + name, fn)

    def verify(self) -> None:
        self.run("bundle_header", self.check_header)
        self.run("key", self.check_key)
        self.run("checkpoint_signature", self.check_signature)
        self.run("checkpoint_origin", self.check_origin)
        self.run("records", self.check_records)
        self.run("log_root", self.check_log_root)
        # After the records, so that their canonical bytes are computed once for both checks.
        self.run("bundle_signature", self.check_bundle_signature)
        self.run("previous_checkpoint", self.check_previous_checkpoint)
        self.run("consistency_proof", self.check_consistency)
        self.run("compact_range", self.check_compact_range)
        if self.prev_bundle is not None:
            self.run("previous_bundle", self.check_previous_bundle)
        self.run("carried_records", self.check_carried)
        if self.prev_bundle is not None:
            self.run("carried_vs_previous", self.check_carried_vs_previous)
        self.run("record_dates", self.check_record_dates)
        self.run("accounts", self.check_accounts)
        self.run("opening_balances", self.check_opening)
        self.run("closing_balances", self.check_closing)
        self.check_statements()
        self.run("balance_sheet_balances", self.check_balance_sheet_balances)
        if self.prev_bundle is not None:
            # The previous report on its own terms too: its closing balances are only worth
            # comparing with if they are what its own records add up to.
            key = (
                TrustedKey(
                    self.key,
                    hashlib.sha256(self.key).hexdigest(),
                    msg("source_this_bundle"),
                    self.expected_origin,
                )
                if self.key
                else self.user_key
            )
            BundleVerifier(
                self.prev_bundle,
                self.report,
                key,
                prefix=self.prefix + "previous.",
                origin=self.expected_origin,
            ).verify()

    # ------------------------------------------------------------------ header and key
    def check_header(self) -> str:
        book = bm.require(self.b, "book", dict, "bundle")
        book_id = bm.require(book, "id", int, "bundle.book")
        if book_id < 1:
            raise fail(msg("book_id_positive", id=book_id))
        period = bm.require(self.b, "period", dict, "bundle")
        start = bm.parse_date(period.get("start"), "bundle.period.start")
        end = bm.parse_date(period.get("end"), "bundle.period.end")
        if start > end:
            raise fail(msg("period_order", start=start, end=end))
        self.set_origin(book_id)
        self.period_start, self.period_end = start, end
        return msg("header_pass", book=book_id, start=start, end=end)

    def check_bundle_signature(self) -> str:
        """The whole bundle (labels, line definitions, accounts, period), not only the log,
        is signed: without this a server could relabel a line and every sum would still add up."""
        if self.origin is None or self.period_start is None or self.period_end is None:
            raise skip(msg("needs_header_period"))
        if "signature" not in self.b:
            raise fail(msg("no_signature"))
        note = bm.require(self.b, "signature", str, "bundle")
        if self.key is None:
            raise fail(msg("no_trusted_key", check="key"))
        text = notes.verify_note(note, self.origin, self.key)
        lines = text[:-1].split("\n")
        if len(lines) != 3:
            raise fail(msg("sig_lines", n=len(lines)))
        start, end = self.period_start.isoformat(), self.period_end.isoformat()
        assert self.origin is not None
        expected = bm.bundle_note_text(self.b, self.origin, start, end, self.leaf_data)
        want = expected[:-1].split("\n")
        if lines[0] != want[0]:
            raise fail(msg("sig_for_other", signed=repr(lines[0][:80]), want=repr(want[0])))
        if lines[1] != want[1]:
            raise fail(msg("sig_for_period", signed=repr(lines[1][:40]), want=repr(want[1])))
        if lines[2] != want[2]:
            raise fail(msg("sig_hash_changed"))
        return msg("sig_pass", hash=want[2][:16], origin=self.origin, period=want[1])

    # ------------------------------------------------------------------ log
    def check_records(self) -> str:
        if self.book_id is None:
            raise skip(msg("needs_header"))
        log = bm.require(self.b, "log", dict, "bundle")
        first = bm.require(log, "first_index", int, "bundle.log")
        if first < 0:
            raise fail(msg("first_index_negative", first=first))
        records = bm.require(log, "records", list, "bundle.log")
        self.first_index, self.records = first, records
        problems: list[str] = []
        nproblems = 0
        dates: list[dt.date] = []
        hashes: list[bytes] | None = []
        for i, rec in enumerate(records):
            path = f"log.records[{i}]"
            shape_ok = False
            try:
                dates.append(bm.check_record(rec, path))
                shape_ok = True
                if rec["index"] != first + i:
                    raise _Outcome(
                        FAIL, msg("record_position", path=path, index=rec["index"], want=first + i)
                    )
                if rec["book"] != self.book_id:
                    raise _Outcome(
                        FAIL, msg("record_book", path=path, book=rec["book"], want=self.book_id)
                    )
            except (bm.ShapeError, _Outcome) as e:
                nproblems += 1
                if len(problems) < 10:
                    problems.append(_describe(e))
            if hashes is not None:
                try:
                    data = bm.leaf_bytes(rec, checked=shape_ok)
                    if shape_ok:
                        self.leaf_data[id(rec)] = data
                    hashes.append(merkle.leaf_hash(data))
                except jcs.CanonicalizationError as e:
                    problems.append(msg("record_canonical", path=path, error=_describe(e)))
                    nproblems += 1
                    hashes = None
            if len(problems) >= 10 and hashes is None:
                break  # enough to say what is wrong; the root cannot be computed anyway
        self.leaf_hashes = hashes
        if nproblems:
            raise fail(_problems(problems, nproblems))
        self.record_dates = dates
        self.records_ok = True
        if not records:
            return msg("records_none")
        return msg("records_pass", n=len(records), first=first, last=first + len(records) - 1)

    def check_log_root(self) -> str:
        if self.cp is None:
            raise skip(msg("needs_checkpoint"))
        if self.leaf_hashes is None or self.first_index is None:
            raise fail(msg("root_unreadable"))
        log = self.b["log"]
        compact = _b64_hashes(
            bm.require(log, "compact_range", list, "bundle.log"), "log.compact_range"
        )
        expected_size = self.first_index + len(self.leaf_hashes)
        if self.cp.size != expected_size:
            raise fail(
                msg(
                    "root_size",
                    size=self.cp.size,
                    first=self.first_index,
                    n=len(self.leaf_hashes),
                    expected=expected_size,
                )
            )
        if len(compact) != self.first_index.bit_count():
            raise fail(
                msg(
                    "compact_count",
                    first=self.first_index,
                    want=self.first_index.bit_count(),
                    got=len(compact),
                )
            )
        size, root = bm.fold_log(compact, self.first_index, self.leaf_hashes)
        if root != self.cp.root:
            raise fail(msg("root_differs"))
        return msg("root_pass", n=len(self.leaf_hashes), size=size)

    # ------------------------------------------------------------------ previous report
    def check_previous_checkpoint(self) -> str:
        if self.origin is None:
            raise skip(msg("needs_header"))
        if "previous" not in self.b:
            raise fail(msg("previous_missing"))
        prev = self.b["previous"]
        if prev is None:
            self.is_first_report = True
            if self.first_index not in (None, 0):
                raise fail(msg("previous_first_index", first=self.first_index))
            return msg("first_no_previous")
        self.is_first_report = False
        if type(prev) is not dict:
            raise fail(msg("previous_not_object"))
        note = bm.require(prev, "checkpoint", str, "bundle.previous")
        self.prev_end = bm.parse_date(prev.get("period_end"), "bundle.previous.period_end")
        self.prev_cp = _open_checkpoint(note, "bundle.previous.checkpoint")
        problems: list[str] = []
        if self.key is None:
            problems.append(msg("previous_no_key"))
        else:
            try:
                notes.verify_note(note, self.origin, self.key)
            except notes.NoteError as e:
                problems.append(msg("previous_signature", error=_describe(e)))
        if self.prev_cp.origin != self.origin:
            problems.append(
                msg("previous_other_origin", origin=self.prev_cp.origin, want=self.origin)
            )
        if self.first_index is not None and self.prev_cp.size != self.first_index:
            problems.append(msg("previous_size", size=self.prev_cp.size, first=self.first_index))
        if self.period_start is not None and self.prev_end >= self.period_start:
            problems.append(msg("previous_period", end=self.prev_end, start=self.period_start))
        if problems:
            raise fail(msg("list", items=problems))
        return msg("previous_cp_pass", size=self.prev_cp.size)

    def check_consistency(self) -> str:
        if self.is_first_report:
            return msg("first_no_consistency")
        if self.prev_cp is None or self.cp is None:
            raise skip(msg("needs_both_checkpoints"))
        proof = _b64_hashes(
            bm.require(self.b["previous"], "consistency_proof", list, "bundle.previous"),
            "previous.consistency_proof",
        )
        if self.prev_cp.size == 0:
            if proof:
                raise fail(msg("consistency_from_empty"))
            return msg("consistency_empty")
        merkle.verify_consistency(
            self.prev_cp.size, self.cp.size, self.prev_cp.root, self.cp.root, proof
        )
        return msg("consistency_pass", size=self.cp.size, prev=self.prev_cp.size)

    def check_compact_range(self) -> str:
        if self.first_index is None:
            raise skip(msg("needs_first_index"))
        compact = _b64_hashes(
            bm.require(self.b["log"], "compact_range", list, "bundle.log"), "log.compact_range"
        )
        if len(compact) != self.first_index.bit_count():
            raise fail(
                msg(
                    "compact_count",
                    first=self.first_index,
                    want=self.first_index.bit_count(),
                    got=len(compact),
                )
            )
        if self.is_first_report:
            return msg("compact_first")
        if self.prev_cp is None:
            raise skip(msg("needs_previous_checkpoint"))
        if merkle.root_from_compact_range(compact) != self.prev_cp.root:
            raise fail(msg("compact_differs"))
        return msg("compact_pass")

    def check_carried(self) -> str:
        if "carried_records" not in self.b:
            raise fail(msg("carried_missing"))
        carried = bm.require(self.b, "carried_records", list, "bundle")
        if self.is_first_report is None:
            raise skip(msg("needs_previous_data"))
        if self.is_first_report:
            if carried:
                raise fail(msg("carried_in_first"))
            self.carried = []
            return msg("carried_first")
        if (
            self.cp is None
            or self.first_index is None
            or self.prev_end is None
            or self.period_end is None
        ):
            raise skip(msg("carried_needs_all"))
        problems: list[str] = []
        last = -1
        recs = []
        for i, item in enumerate(carried):
            path = f"carried_records[{i}]"
            try:
                rec = bm.require(item, "record", dict, path)
                when = bm.check_record(rec, f"{path}.record")
                idx = rec["index"]
                if rec["book"] != self.book_id:
                    raise fail(msg("record_book", path=path, book=rec["book"], want=self.book_id))
                if idx >= self.first_index:
                    raise fail(
                        msg("carried_not_before", path=path, index=idx, first=self.first_index)
                    )
                if idx <= last:
                    raise fail(msg("carried_order", path=path, index=idx, last=last))
                last = idx
                if when <= self.prev_end:
                    raise fail(msg("carried_date", path=path, date=when, end=self.prev_end))
                proof = _b64_hashes(
                    bm.require(item, "inclusion_proof", list, path), f"{path}.inclusion_proof"
                )
                try:
                    merkle.verify_inclusion(
                        bm.record_leaf_hash(rec, checked=True),
                        idx,
                        self.cp.size,
                        proof,
                        self.cp.root,
                    )
                except merkle.VerificationError as e:
                    raise fail(msg("carried_proof", path=path, error=_describe(e))) from None
                recs.append(rec)
            except (_Outcome, bm.ShapeError, jcs.CanonicalizationError, notes.NoteError) as e:
                problems.append(_describe(e))
        if problems:
            raise fail(_problems(problems))
        self.carried = recs
        self.carried_dates = [dt.date.fromisoformat(r["date"]) for r in recs]
        return msg("carried_records_pass", n=len(recs))

    def check_record_dates(self) -> str:
        if not self.records_ok or self.period_end is None or self.period_start is None:
            raise skip(msg("needs_valid_records"))
        pending = sum(1 for d in [*self.record_dates, *self.carried_dates] if d > self.period_end)  # type: ignore[misc]
        early = [
            r["number"]
            for r, d in zip(self.records, self.record_dates, strict=True)  # type: ignore[arg-type]
            if d < self.period_start
        ]
        if early:
            # Allowed (FORMAT.md §3: a reopened month), but the reader should know that an
            # earlier published report did not include these.
            raise warn(
                msg(
                    "record_dates_early",
                    n=len(early),
                    start=self.period_start,
                    numbers=_problems(early, limit=3),
                )
            )
        return msg("record_dates_pass", n=pending, end=self.period_end)

    # ------------------------------------------------------------------ balances
    def check_accounts(self) -> str:
        self.accounts = bm.accounts_from_json(
            bm.require(self.b, "accounts", list, "bundle"), "bundle.accounts"
        )
        used: set[str] = set()
        for rec in (self.records if self.records_ok else []) + (self.carried or []):  # type: ignore[operator]
            used.update(ln["account"] for ln in rec["lines"])
        missing = sorted(used - set(self.accounts))
        if missing:
            self.accounts = None
            raise fail(msg("accounts_missing", accounts=", ".join(missing[:10])))
        return msg("accounts_pass", n=len(self.accounts))

    def check_opening(self) -> str:
        self.opening = bm.balances_from_json(
            bm.require(self.b, "opening_balances", list, "bundle"), "bundle.opening_balances"
        )
        if self.is_first_report:
            if self.opening:
                raise fail(msg("opening_first"))
            return msg("opening_first_pass")
        if self.is_first_report is None:
            raise skip(msg("needs_previous_data"))
        if self.prev_bundle is None and self.prefix:
            raise skip(msg("opening_not_compared"))
        if self.prev_bundle is None:
            raise skip(
                msg("opening_no_previous", end=self.prev_end),
                msg("opening_action", end=self.prev_end),
            )
        prev = self.prev_bundle
        closing = bm.balances_from_json(
            bm.require(prev, "closing_balances", list, "previous"), "previous.closing_balances"
        )
        diffs = _diff_balances(closing, self.opening, "opening_diff")
        if diffs:
            raise fail(msg("opening_differs", diffs=diffs))
        return msg("opening_pass", n=len(closing))

    def check_closing(self) -> str:
        if self.opening is None:
            raise skip(msg("closing_needs_opening"))
        if not self.records_ok or self.carried is None:
            raise skip(msg("closing_needs_records"))
        stated = bm.balances_from_json(
            bm.require(self.b, "closing_balances", list, "bundle"), "bundle.closing_balances"
        )
        # records_ok: the records, their dates and the period were read
        assert self.records is not None and self.record_dates is not None
        assert self.period_end is not None
        used = [
            r for r, d in zip(self.records, self.record_dates, strict=True) if d <= self.period_end
        ]
        used += [
            r for r, d in zip(self.carried, self.carried_dates, strict=True) if d <= self.period_end
        ]
        self.closing = bm.add_records(self.opening, used)
        self.movement = bm.movements(used)
        diffs = _diff_balances(self.closing, stated, "balance_diff")
        if diffs:
            raise fail(msg("closing_differs", diffs=diffs))
        return msg("closing_pass", n=len(used), m=len(stated))

    # ------------------------------------------------------------------ statements
    def check_statements(self) -> None:
        statements = self.b.get("statements")
        if type(statements) is not list:
            self.report.add(self.prefix + "statements", FAIL, msg("statements_not_array"))
            return
        if not statements:
            chart = (
                self.b.get("book", {}).get("chart") if type(self.b.get("book")) is dict else None
            )
            if chart == "CUSTOM":
                self.report.add(self.prefix + "statements", PASS, msg("statements_custom"))
            else:
                self.report.add(self.prefix + "statements", WARN, msg("statements_none"))
            return
        names: set[str] = set()
        for i, st in enumerate(statements):
            name = st.get("statement") if type(st) is dict else None
            label = name if type(name) is str and name.isidentifier() else f"#{i}"
            if label in names:
                label = f"{label}#{i}"
            names.add(label)
            self.run(f"statement.{label}", functools.partial(self.check_statement, st, i))

    def check_statement(self, st: object, i: int) -> str:
        path = f"statements[{i}]"
        name = bm.require(st, "statement", str, path)
        lines = bm.parse_statement_lines(bm.require(st, "lines", list, path), f"{path}.lines")
        if self.accounts is None:
            raise skip(msg("statement_needs_accounts"))
        if self.closing is None or self.movement is None:
            raise skip(msg("statement_needs_balances"))
        flow = bm.is_flow_statement(name)
        source = self.movement if flow else self.closing
        rolled = bm.rolled_up(bm.normal_balances(source, self.accounts), self.accounts)
        amounts = bm.evaluate_lines(lines, rolled)
        self.statement_amounts[name] = (lines, amounts)
        wrong = [
            msg(
                "statement_line",
                line=ln.key,
                recomputed=yuan(amounts[ln.key]),
                stated=yuan(ln.amount or 0),
            )
            for ln in lines
            if ln.kind != "heading" and amounts[ln.key] != ln.amount
        ]
        if wrong:
            raise fail(_problems(wrong))
        return msg("statement_flow_pass" if flow else "statement_sheet_pass", n=len(amounts))

    def check_balance_sheet_balances(self) -> str:
        statements = self.b.get("statements")
        has_sheet = type(statements) is list and any(
            type(st) is dict and st.get("statement") == "balance_sheet" for st in statements
        )
        if not has_sheet:
            return msg("no_sheet")
        if "balance_sheet" not in self.statement_amounts:
            raise skip(msg("no_sheet_recomputed"))
        lines, amounts = self.statement_amounts["balance_sheet"]
        left, right = bm.total_lines(lines)
        if amounts[left.key] != amounts[right.key]:
            raise fail(
                msg(
                    "sheet_unbalanced",
                    left=left.key,
                    left_amount=yuan(amounts[left.key]),
                    right=right.key,
                    right_amount=yuan(amounts[right.key]),
                )
            )
        return msg("sheet_pass", left=left.key, right=right.key, amount=yuan(amounts[left.key]))

    # ------------------------------------------------------------------ with --previous
    def check_previous_bundle(self) -> str:
        prev = self.prev_bundle
        assert prev is not None
        if self.is_first_report:
            raise fail(msg("previous_is_first"))
        if self.book_id is None or self.prev_end is None:
            raise skip(msg("previous_needs"))
        problems: list[str] = []
        pbook = bm.require(bm.require(prev, "book", dict, "previous"), "id", int, "previous.book")
        if pbook != self.book_id:
            problems.append(msg("previous_other_book", book=pbook, want=self.book_id))
        if bm.require(prev, "checkpoint", str, "previous") != self.b["previous"]["checkpoint"]:
            problems.append(msg("previous_other_checkpoint"))
        pend = bm.parse_date(
            bm.require(prev, "period", dict, "previous").get("end"), "previous.period.end"
        )
        if pend != self.prev_end:
            problems.append(msg("previous_other_end", end=pend, want=self.prev_end))
        try:
            _name, praw = _public_key_field(prev, "previous")
            if self.key is not None and praw != self.key:
                problems.append(msg("previous_other_key"))
        except (_Outcome, bm.ShapeError, notes.NoteError) as e:
            problems.append(_describe(e))
        if problems:
            raise fail(msg("list", items=problems))
        return msg("previous_pass", end=pend)

    def check_carried_vs_previous(self) -> str:
        prev = self.prev_bundle
        assert prev is not None
        if self.carried is None or self.period_end is None:
            raise skip(msg("carried_needs"))
        plog = bm.require(prev, "log", dict, "previous")
        precords = bm.require(plog, "records", list, "previous.log")
        pcarried = bm.require(prev, "carried_records", list, "previous")
        pend = bm.parse_date(
            bm.require(prev, "period", dict, "previous").get("end"), "previous.period.end"
        )
        candidates = [(f"previous.log.records[{i}]", r) for i, r in enumerate(precords)]
        candidates += [
            (
                f"previous.carried_records[{i}]",
                bm.require(c, "record", dict, f"previous.carried_records[{i}]"),
            )
            for i, c in enumerate(pcarried)
        ]
        # The previous report's pending records: dated after its period (FORMAT.md §3).
        expected = {}
        for path, rec in candidates:
            if bm.check_record(rec, path) > pend:
                expected[rec["index"]] = bm.leaf_bytes(rec, checked=True)
        got = {rec["index"]: bm.leaf_bytes(rec, checked=True) for rec in self.carried}
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        changed = sorted(i for i in set(expected) & set(got) if expected[i] != got[i])
        problems: list[str] = []
        if missing:
            problems.append(msg("not_carried", indices=_indices(missing)))
        if extra:
            problems.append(msg("carried_not_pending", indices=_indices(extra)))
        if changed:
            problems.append(msg("carried_differ", indices=_indices(changed)))
        if problems:
            raise fail(msg("list", items=problems))
        return msg("carried_pass", n=len(got), end=pend)


# =========================================================================== receipts


class ReceiptVerifier(_SignedDocument):
    what = "receipt"
    needs_book = msg("needs_record_book")
    key_check = "receipt_key"

    def origin_mismatch(self) -> str:
        return msg("receipt_of", origin=repr(self.origin))

    def __init__(
        self,
        receipt: dict,
        report: Report,
        user_key: TrustedKey | None,
        bundle: BundleVerifier | None = None,
        origin: str | None = None,
    ):
        self.r = self.doc = receipt
        self.expected_origin = origin or (user_key.name if user_key else None)
        self.book_id: int | None = None
        self.report = report
        self.user_key = user_key
        self.bundle = bundle
        self.origin: str | None = None
        self.key: bytes | None = None
        self.cp: notes.Checkpoint | None = None
        self.record: dict | None = None

    def verify(self) -> None:
        run = self.report.run
        run("receipt_record", self.check_record)
        run("receipt_key", self.check_key)
        run("receipt_signature", self.check_signature)
        run("receipt_origin", self.check_origin)
        run("receipt_inclusion", self.check_inclusion)
        run("receipt_commitment", self.check_commitment)
        if self.bundle is not None:
            run("receipt_vs_bundle", self.check_vs_bundle)

    def check_record(self) -> str:
        index = bm.require(self.r, "index", int, "receipt")
        record = bm.require(self.r, "record", dict, "receipt")
        # The origin comes from the record's book so that the key and signature checks can
        # still run (and say what is wrong) when the record is otherwise malformed.
        if type(record.get("book")) is int and record["book"] >= 1:
            self.set_origin(record["book"])
        bm.check_record(record, "receipt.record")
        if record["index"] != index:
            raise fail(msg("receipt_index", index=record["index"], want=index))
        self.record = record
        return msg("receipt_record_pass", number=record["number"], book=record["book"], index=index)

    def check_key(self) -> str:
        outcome = self.choose_key()
        if (
            self.bundle is not None
            and self.bundle.key is not None
            and self.key is not None
            and self.key != self.bundle.key
        ):
            raise fail(msg("receipt_other_key"))
        if isinstance(outcome, _Outcome):
            raise outcome
        return outcome

    def check_inclusion(self) -> str:
        if self.cp is None:
            raise skip(msg("needs_checkpoint"))
        record = bm.require(self.r, "record", dict, "receipt")
        index = bm.require(self.r, "index", int, "receipt")
        proof = _b64_hashes(
            bm.require(self.r, "inclusion_proof", list, "receipt"), "receipt.inclusion_proof"
        )
        merkle.verify_inclusion(
            bm.record_leaf_hash(record), index, self.cp.size, proof, self.cp.root
        )
        return msg("receipt_inclusion_pass", index=index, size=self.cp.size)

    def check_commitment(self) -> str:
        """Each of the receipt's lines opens the record's commitment for that line; the other
        lines' commitments (co-payers) stay closed: the receipt cannot open them."""
        record = bm.require(self.r, "record", dict, "receipt")
        committed = record.get("private")
        if committed is None:
            raise fail(msg("receipt_no_commitments"))
        if type(committed) is not list:
            raise fail(msg("receipt_private_not_array"))
        by_line = {}
        for c in committed:
            if type(c) is dict and type(c.get("line")) is int and type(c.get("commitment")) is str:
                by_line[c["line"]] = c["commitment"]
        private = bm.require(self.r, "private", list, "receipt")
        if not private:
            raise fail(msg("receipt_no_private"))
        nlines = len(record.get("lines") or [])
        seen = set()
        for i, p in enumerate(private):
            pp = f"receipt.private[{i}]"
            line = bm.require(p, "line", int, pp)
            bm.require(p, "resident", int, pp)
            bm.require(p, "name", str, pp)
            bm.require(p, "unit", str, pp)
            salt_n = notes.b64decode(bm.require(p, "salt", str, pp), f"{pp}.salt")
            if set(p) != {"line", "resident", "name", "unit", "salt"}:
                raise fail(msg("receipt_private_keys", path=pp))
            if len(salt_n) != 16:
                raise fail(msg("receipt_salt_length", path=pp, n=len(salt_n)))
            if not 1 <= line <= nlines:
                raise fail(msg("receipt_line_range", path=pp, line=line, n=nlines))
            if line in seen:
                raise fail(msg("receipt_line_twice", path=pp, line=line))
            seen.add(line)
            if line not in by_line:
                raise fail(msg("receipt_no_commitment", line=line))
            entry = {k: p[k] for k in ("line", "resident", "name", "unit")}
            if bm.commitment(salt_n, entry) != by_line[line]:
                raise fail(msg("receipt_commitment_differs", line=line))
        who = [msg("receipt_commitment_line", line=p["line"], name=p["name"]) for p in private]
        return msg("receipt_commitment_pass", who=msg("comma_list", items=tuple(who)))

    def check_vs_bundle(self) -> str:
        b = self.bundle
        assert b is not None
        if self.cp is None or b.cp is None:
            raise skip(msg("needs_both_checkpoints"))
        if self.cp.origin != b.cp.origin:
            raise fail(msg("receipt_other_origin", origin=self.cp.origin, bundle=b.cp.origin))
        notes_: list[str] = []
        if self.cp.size == b.cp.size and self.cp.root != b.cp.root:
            raise fail(msg("receipt_forked"))
        if self.record is not None and b.records_ok and b.first_index is not None:
            pos = self.record["index"] - b.first_index
            if 0 <= pos < len(b.records):  # type: ignore[arg-type]
                if bm.leaf_bytes(b.records[pos]) != bm.leaf_bytes(self.record):  # type: ignore[index]
                    raise fail(msg("receipt_other_record"))
                notes_.append(msg("receipt_same_record"))
        if self.cp.size < b.cp.size:
            notes_.append(
                msg(
                    "receipt_older",
                    size=self.cp.size,
                    bundle=b.cp.size,
                    url=f"/api/v1/public/books/{self.record['book'] if self.record else '<id>'}"
                    f"/proof?index={self.r.get('index')}&size={b.cp.size}",
                )
            )
        return msg("list", items=notes_) if notes_ else msg("receipt_same_book")


# =========================================================================== entry points


def verify_bundle(
    bundle: object,
    *,
    previous: object = None,
    key: TrustedKey | None = None,
    report: Report | None = None,
    origin: str | None = None,
) -> tuple[Report, BundleVerifier]:
    """Run every bundle check (and the ``--previous`` ones when ``previous`` is given).
    ``origin``: the log origin the organisation's page states (else the key's name, if any)."""
    report = report or Report()
    if type(bundle) is not dict:
        bundle = {}
    if previous is not None and type(previous) is not dict:
        previous = {}
    v = BundleVerifier(bundle, report, key, previous=previous, origin=origin)
    v.verify()
    return report, v


def verify_receipt(
    receipt: object,
    *,
    key: TrustedKey | None = None,
    bundle: BundleVerifier | None = None,
    report: Report | None = None,
    origin: str | None = None,
) -> Report:
    report = report or Report()
    ReceiptVerifier(
        receipt if type(receipt) is dict else {}, report, key, bundle, origin=origin
    ).verify()
    return report


def verify(
    bundle_path: str | None,
    *,
    previous_path: str | None = None,
    receipt_path: str | None = None,
    key: str | None = None,
    origin: str | None = None,
) -> Report:
    """Read the files and run every check; input problems land in ``report.input_errors``."""
    report = Report()
    docs: dict[str, object] = {}
    trusted = None
    try:
        trusted = parse_key(key) if key is not None else None
    except InputError as e:
        report.input_errors.append(e.message)
    for what, path, fmt in (
        ("bundle", bundle_path, DISCLOSURE_FORMAT),
        ("previous", previous_path, DISCLOSURE_FORMAT),
        ("receipt", receipt_path, RECEIPT_FORMAT),
    ):
        if path is None:
            continue
        try:
            doc = load_json(path, what)
        except InputError as e:
            report.input_errors.append(e.message)
            continue
        found = document_format(doc)
        if what == "bundle" and found == RECEIPT_FORMAT and receipt_path is None:
            what, fmt = "receipt", RECEIPT_FORMAT  # a receipt given on its own
        if found != fmt:
            where = msg("file_what", doc=msg(f"doc_{what}"), path=path)
            report.input_errors.append(
                msg("input_format_other", what=where, found=found, want=fmt)
                if found
                else msg("input_format_none", what=where, want=fmt)
            )
            continue
        docs[what] = doc
    if "previous" in docs and "bundle" not in docs and not report.input_errors:
        report.input_errors.append(msg("input_previous_alone"))
    if not docs and not report.input_errors:
        report.input_errors.append(msg("input_nothing"))
    if report.input_errors:
        return report
    bv = None
    if "bundle" in docs:
        _, bv = verify_bundle(
            docs["bundle"], previous=docs.get("previous"), key=trusted, report=report, origin=origin
        )
    if "receipt" in docs:
        verify_receipt(docs["receipt"], key=trusted, bundle=bv, report=report, origin=origin)
    return report


# =========================================================================== Chinese output

# The command line in Chinese (``--lang zh``, or a zh locale in LANG): each check's name, what
# its failure means and what completes a partial check, in the words of the browser verifier's
# Chinese page; the detail follows in Chinese (``MESSAGES``), or in English for a detail that
# only an input's own text gives (a JSON parser's or a shape error's words).
ZH_STATUS = {PASS: "通过", FAIL: "未通过", WARN: "注意", SKIP: "未运行"}
ZH_LABELS = {
    "input": "读取文件",
    "verifier": "核验工具",
    "bundle_header": "账簿和期间",
    "key": "机构公钥",
    "checkpoint_signature": "检查点签名",
    "checkpoint_origin": "检查点属于本账簿",
    "records": "本期记录",
    "log_root": "按记录重算日志根",
    "bundle_signature": "整份报告的签名",
    "previous_checkpoint": "上一个检查点",
    "consistency_proof": "自上一份报告以来没有改写",
    "compact_range": "本期之前的日志",
    "previous_bundle": "上一份报告",
    "carried_records": "从以前报告转入的记录",
    "carried_vs_previous": "转入记录与上一份报告一致",
    "record_dates": "记录日期",
    "accounts": "会计科目表",
    "opening_balances": "期初余额",
    "closing_balances": "重算期末余额",
    "statements": "报表",
    "statement": "重算报表",
    "balance_sheet_balances": "资产负债表平衡",
    "receipt_record": "回执：记录",
    "receipt_key": "回执：公钥",
    "receipt_signature": "回执：签名",
    "receipt_origin": "回执：账簿",
    "receipt_inclusion": "回执：您的付款在日志中",
    "receipt_commitment": "回执：您的个人信息一致",
    "receipt_vs_bundle": "回执与报告一致",
    "stored_hash": "数据包与发布时一致",
}
ZH_FAILS = {
    "input": "文件无法作为报告或回执读取。",
    "verifier": "核验工具遇到意外错误。",
    "bundle_header": "报告没有正确写明所属账簿或期间。",
    "key": "这个公钥不是该机构公布的公钥。",
    "checkpoint_signature": "日志的签名与公钥不符：它不是该机构签的，或已被改动。",
    "checkpoint_origin": "这个日志属于另一个账簿或另一个网站。",
    "records": "本期记录的格式不正确。",
    "log_root": "记录与签名的日志对不上：有记录被改动、增加、删除或调换了顺序。",
    "bundle_signature": "报告在签名之后被改动过。",
    "previous_checkpoint": "本报告的日志与上一份报告的日志衔接不上。",
    "consistency_proof": "自上一份报告以来，日志被改写过。",
    "compact_range": "本期之前的日志与上一份报告签名的日志不一致。",
    "previous_bundle": "所给的上一份报告并不是本报告所接续的那一份。",
    "carried_records": "从以前报告转入的记录对不上。",
    "carried_vs_previous": "从以前报告转入的记录与上一份报告不一致。",
    "record_dates": "有些记录的日期超出了本报告能包含的范围。",
    "accounts": "会计科目表不完整。",
    "opening_balances": "期初余额不等于上一份报告的期末余额。",
    "closing_balances": "期末余额不等于期初余额加上本期记录。",
    "statement": "报表中有些行与按记录算出的数不一致。",
    "statements": "报表无法读取。",
    "balance_sheet_balances": "资产负债表不平衡。",
    "receipt_record": "回执中的记录格式不正确。",
    "receipt_key": "回执的公钥不是该机构公布的公钥。",
    "receipt_signature": "回执的签名与公钥不符。",
    "receipt_origin": "这张回执属于另一个账簿或另一个网站。",
    "receipt_inclusion": "您的付款并不像回执所说的那样在签名日志中。",
    "receipt_commitment": "您的个人信息与记录中的承诺值不符。",
    "receipt_vs_bundle": "回执与报告不一致。",
    "stored_hash": "数据包与发布时记录的哈希不一致。",
}
# What completes a partly checked result, by check.
ZH_ACTIONS = {
    "key": "用 --key 加上机构页面上的“核验公钥”重新运行（先把它的指纹与社区公示栏上张贴的指纹核对）。",
    "checkpoint_origin": "用 --key 加上机构页面上的“核验公钥”重新运行（它写明了日志名称）。",
    "receipt_key": "用 --key 加上机构页面上的“核验公钥”重新运行（先把它的指纹与社区公示栏上张贴的指纹核对）。",
    "receipt_origin": "用 --key 加上机构页面上的“核验公钥”重新运行（它写明了日志名称）。",
    "opening_balances": "用 --previous 加上上一份报告的数据包（在机构页面上下载）重新运行。",
}
ZH_NEEDS = "此项检查依赖前面一项未通过的检查，因此没有运行。"


def _zh_base(check: str) -> str:
    base = check.removeprefix("previous.")
    return "statement" if base.startswith("statement.") else base


def zh_line(c: Check) -> str:
    """One check in Chinese: status, name, what a failure means, the detail (in Chinese when
    ``MESSAGES`` has it, else the English text labelled as such)."""
    base = _zh_base(c.check)
    label = ZH_LABELS.get(base, c.check)
    zh = isinstance(c.message, Msg)
    detail = in_lang(c.message, "zh")
    if c.status == FAIL and base in ZH_FAILS:
        text = f"{ZH_FAILS[base]}（{'详情' if zh else '技术细节，英文'}：{detail}）"
    elif c.status == SKIP and c.message.startswith("needs "):
        text = f"{ZH_NEEDS}（{detail}）" if zh else ZH_NEEDS
    else:
        text = detail if zh else f"（英文说明：{detail}）"
    line = f"{ZH_STATUS.get(c.status, c.status)} {label}（{c.check}）：{text}"
    if c.action:
        action = in_lang(c.action, "zh") if isinstance(c.action, Msg) else None
        line += "\n    → " + (action or ZH_ACTIONS.get(base, c.action))
    return line


def zh_text(report: Report) -> str:
    """The report as ``Report.text`` gives it, in Chinese (amounts in yuan, as in English)."""
    lines = [f"未通过 读取文件：{in_lang(e, 'zh')}" for e in report.input_errors]
    lines += [zh_line(c) for c in report.checks]
    n = len(report.checks)
    if report.input_errors:
        lines.append("核验未通过：有文件无法读取")
    elif report.failed:
        lines.append(f"核验未通过：{n} 项检查中有 {len(report.failed)} 项未通过")
    elif report.incomplete:
        lines.append(
            f"部分核验：没有发现问题，但 {n} 项检查中有 {len(report.incomplete)} 项未能完整运行；"
            "要完成核验："
        )
        lines += [
            f"  - {ZH_LABELS.get(_zh_base(c.check), c.check)}："
            + (
                (in_lang(c.action, "zh") if isinstance(c.action, Msg) else None)
                or ZH_ACTIONS.get(_zh_base(c.check))
                or c.action
                or in_lang(c.message, "zh")
            )
            for c in report.incomplete
        ]
    else:
        lines.append(f"核验通过：{n} 项检查全部运行并通过")
    return "\n".join(lines)


def default_lang() -> str:
    """zh when the terminal's locale is Chinese (LC_ALL, LC_MESSAGES or LANG), else en."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=(
            "commons_verify.py"
            if sys.argv[0].endswith("commons_verify.py")
            else "python -m transparency.verify"
        ),
        description="Verify a Commons Ledger disclosure bundle and/or a receipt (FORMAT.md).",
    )
    parser.add_argument("bundle", nargs="?", help="the disclosure bundle JSON (or a receipt)")
    parser.add_argument("--previous", help="the previous report's bundle JSON")
    parser.add_argument("--receipt", help="a resident's receipt JSON")
    parser.add_argument(
        "--key", help="the organisation's public key or its fingerprint, or a file holding it"
    )
    parser.add_argument(
        "--origin",
        help="the log origin the organisation's page states (<host>/commons-ledger/<book id>); "
        "not needed when --key is the verifier key name+id+key, which names it",
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument(
        "--lang",
        choices=("zh", "en"),
        default=None,
        help="messages in Chinese (zh) or English (en); default: the terminal's locale",
    )
    args = parser.parse_args(argv)
    try:
        report = verify(
            args.bundle,
            previous_path=args.previous,
            receipt_path=args.receipt,
            key=args.key,
            origin=args.origin,
        )
    except Exception as e:  # a bug of ours must still not print a traceback
        report = Report()
        report.add("verifier", FAIL, msg("unexpected_error", kind=type(e).__name__, detail=e))
    try:
        if args.json:
            print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        else:
            print(zh_text(report) if (args.lang or default_lang()) == "zh" else report.text())
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; the exit code still tells
        sys.stdout = None  # no second error at interpreter exit
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
