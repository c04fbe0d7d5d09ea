"""Adapters follow their connection secret: reused while it holds, rebuilt when ops rotate it."""

from __future__ import annotations

from shared.connections import Connected, Connection


class Secrets:
    def __init__(self) -> None:
        self.token = "first"

    def connection(self, system: str) -> Connection:
        return Connection(base_url=f"https://{system}.example", credentials={"token": self.token})


def test_the_adapter_is_reused_until_the_connection_changes() -> None:
    secrets, built = Secrets(), []

    def build(connection: Connection) -> str:
        built.append(connection.credentials["token"])
        return f"adapter for {connection.credentials['token']}"

    adapter = Connected(secrets, "netsuite", build)
    assert adapter() == adapter() == "adapter for first"
    secrets.token = "rotated"
    assert adapter() == "adapter for rotated"
    assert built == ["first", "rotated"]
