"""SIRET: 14 digits whose Luhn key is right (La Poste's establishments excepted)."""

import pytest

from app.organisations.services import siret_is_valid


@pytest.mark.parametrize(
    "siret",
    ["20004697700019", "200 046 977 00019", "91234567800011", "35600000000015"],
)
def test_valid_sirets(siret):
    assert siret_is_valid(siret)


@pytest.mark.parametrize(
    "siret",
    ["20004697700018", "2000469770001", "200046977000190", "2000469770001A", "", "٢٠٠٠٤٦٩٧٧٠٠٠١٩"],
)
def test_invalid_sirets(siret):
    assert not siret_is_valid(siret)
