"""API tokens (admin scope): create, list, rotate, revoke."""

from __future__ import annotations

from vigil.api.http import segment
from vigil.api.routes.base import V1, Area
from vigil.api.specs import NewToken, TokenIn, TokenOut, TokenRotateIn


class TokenRoutes(Area):
    def create(self, spec: TokenIn) -> NewToken:
        """A new token; its secret is in the answer only."""
        body = self.http.json("POST", f"{V1}/tokens", json=spec.model_dump(mode="json"))
        return NewToken.model_validate(body)

    def all(self) -> list[TokenOut]:
        return [TokenOut.model_validate(t) for t in self.http.json("GET", f"{V1}/tokens")]

    def rotate(self, token_id: str, spec: TokenRotateIn) -> NewToken:
        """A new secret for a token; the old one is revoked now or after `grace`."""
        path = f"{V1}/tokens/{segment(token_id)}/rotate"
        return NewToken.model_validate(
            self.http.json("POST", path, json=spec.model_dump(mode="json"))
        )

    def revoke(self, token_id: str) -> TokenOut:
        path = f"{V1}/tokens/{segment(token_id)}"
        return TokenOut.model_validate(self.http.json("DELETE", path))
