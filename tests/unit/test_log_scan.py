"""The log scanner finds a planted secret, signature or piece of personal data, says where, and never shows it."""

from __future__ import annotations

import json
from pathlib import Path

from infra.local.log_needles import personal_data_needles, secret_needles, signature_needles
from infra.local.log_scan import Needle, scan_files, scan_lines
from infra.local.sandboxes.base import Delivery, Sandbox

SECRET = "whsec_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"
EMAIL = "dana.whitfield@example.com"


def _line(message: str, **fields: object) -> str:
    return json.dumps({"level": "INFO", "message": message, **fields})


def test_a_planted_secret_and_email_are_found_with_file_and_line_and_shown_masked(tmp_path: Path) -> None:
    (tmp_path / "fn-a.log").write_text(
        "\n".join(
            [
                _line("webhook accepted", platform="shopify"),
                _line("record failed", reason=f"bad secret {SECRET}"),
                _line("order fetched", detail_type="OrderReceived"),
                _line("customer looked up", body=json.dumps({"customer": {"email": EMAIL.upper()}})),
            ]
        )
    )
    (tmp_path / "fn-b.log").write_text(_line("all good", order_key="shopify:store:1") + "\n")
    needles = [Needle.literal("secret", SECRET), Needle.literal("email", EMAIL, ignore_case=True)]

    hits = scan_files(tmp_path.glob("*.log"), needles)

    assert [(h.file, h.line, h.kind, h.field) for h in hits] == [
        ("fn-a.log", 2, "secret", "reason"),
        ("fn-a.log", 4, "email", "body.customer.email"),  # inside a JSON body logged as a string
    ]
    report = "\n".join(str(hit) for hit in hits)
    assert SECRET not in report
    assert EMAIL not in report.lower()
    assert "wh…(36 chars)" in report
    assert "record failed" in report  # the message, to find the log call


def test_a_traceback_line_that_is_not_json_is_scanned_too() -> None:
    lines = ["Traceback (most recent call last):", f'ValueError: no customer for "{EMAIL}"']
    [hit] = scan_lines("fn.log", lines, [Needle.literal("email", EMAIL)])
    assert (hit.line, hit.field, hit.message) == (2, None, None)


def test_every_spelling_of_a_phone_number_is_found_and_other_numbers_are_not() -> None:
    needle = Needle.phone("+1 614 555 0188")
    found = ["+16145550188", "(614) 555-0188", "614-555-0188", "+1 614 555 0188", "tel 16145550188"]
    missed = ["order 7124853400300", "id 916145550188", "61455501889", "614-555-0189"]
    assert [bool(scan_lines("f", [text], [needle])) for text in found] == [True] * len(found)
    assert [bool(scan_lines("f", [text], [needle])) for text in missed] == [False] * len(missed)


def test_a_name_counts_only_next_to_its_address_and_short_values_are_not_scanned_for() -> None:
    needles = [
        Needle.name_with_address("Dana Whitfield", ["200 Summit Ridge Dr", "01752"]),
        Needle.literal("s", "local"),
    ]
    assert scan_lines("f", [_line("contact", name="Dana Whitfield")], needles) == []
    assert scan_lines("f", [_line("sent to localhost", url="http://localhost")], needles) == []
    [hit] = scan_lines("f", [_line("ship to", to="Dana Whitfield, 200 Summit Ridge Dr")], needles)
    assert hit.kind == "name+address"


def test_needles_come_from_secret_values_sent_signatures_and_the_payloads_personal_fields() -> None:
    secrets = {
        "crossdock-dev/webhooks/shopify": json.dumps({"current": SECRET, "previous": "old-secret-value-1"}),
        "crossdock-dev/connections/netsuite": json.dumps(
            {"base_url": "http://127.0.0.1:9000", "credentials": {"token_secret": "tok-secret-xyz"}, "settings": {}}
        ),
    }
    assert _values(secret_needles(secrets)) == {SECRET, "old-secret-value-1", "tok-secret-xyz"}

    sandbox = Sandbox()
    sent = {"webhook-id": "msg_1", "webhook-signature": "v1,c2lnbmF0dXJlLW9uZQ== v1,c2lnbmF0dXJlLXR3bw=="}
    sandbox.outbox.append(Delivery("http://x", {}, b"{}", 0.0, sent_headers=sent))
    assert {"v1,c2lnbmF0dXJlLW9uZQ==", "c2lnbmF0dXJlLXR3bw=="} <= _values(signature_needles([sandbox]))

    order = {
        "email": EMAIL,
        "customer": {"phone": "(508) 555-0188", "first_name": "Dana", "last_name": "Whitfield"},
        "shipping_address": {"first_name": "Dana", "last_name": "Whitfield", "address1": "200 Summit Ridge Dr"},
    }
    kinds = {(n.kind, n.pattern.pattern) for n in personal_data_needles([order])}
    assert ("email", "dana\\.whitfield@example\\.com") in kinds
    assert ("address", "200\\ Summit\\ Ridge\\ Dr") in kinds
    assert ("name+address", "Dana\\ Whitfield") in kinds
    assert [kind for kind, _ in kinds].count("phone") == 1


def _values(needles: list[Needle]) -> set[str]:
    return {n.pattern.pattern.replace("\\", "") for n in needles if n.kind in ("secret", "signature")}
