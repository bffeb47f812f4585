"""The parent of every contract page: `/contrats/<contract_id>/…`.

Feature blueprints nest in `contract_scope`; `permissions.enforce_access_rule` then requires
membership of `g.contract_id` on each of their routes, so no feature can forget it."""

from flask import Blueprint, g

contract_scope = Blueprint("contract", __name__, url_prefix="/contrats/<int:contract_id>")


@contract_scope.url_value_preprocessor
def pull_contract_id(_endpoint, values):
    g.contract_id = values.pop("contract_id")


@contract_scope.url_defaults
def add_contract_id(_endpoint, values):
    if "contract" in g:  # url_for inside a contract page needs no contract_id
        values.setdefault("contract_id", g.contract.id)
