"""What the change documents print: plain data built from the database by
`app.changes.documents.build` (or by hand in tests), the same for the PDF and the DOCX."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from app.changes.legal import HistoryRow, Threshold
from app.changes.legal_warnings import Warning


@dataclass
class Party:
    designation: str  # buyer: « Métropole de Lyon — Centrale d'achat »; holder: company name
    address: str = ""  # buyer's address, or the holder's establishment
    trade_name: str = ""  # holder: nom commercial
    head_office_address: str = ""
    email: str = ""
    phone: str = ""
    siret: str = ""  # establishment
    head_office_siret: str = ""


@dataclass
class ContractInfo:
    reference: str  # « 2025-0142 »
    object: str
    lot: str  # "" means « sans objet »
    notification_date: date
    duration_months: int
    vat_rate: Decimal  # Decimal("0.20")
    initial_ht: Decimal
    ccap_article: str  # article of the CCAP holding the clause de progrès, « 9.2 »
    buyer_is_state: bool  # prints the « Pour l'État… » box, else « Sans objet »
    place: str  # where the buyer signs: « Lyon »


@dataclass
class Modification:
    """One line of section D: the CCAP/CCTP/BPU article modified or completed, the new text."""

    article: str  # « CCTP, article 4.2 »
    text: str  # plain text, may hold several paragraphs separated by blank lines
    impact_ht: Decimal  # signed


@dataclass
class DiffLine:
    """One changed field of one plan item, already in words."""

    item: str  # « Objectif O2 — Indicateur I2.1 … » or the item's title
    change: str  # « modifié », « ajouté », « supprimé », « déplacé »
    field: str = ""  # « Valeur cible »
    before: str = ""
    after: str = ""


@dataclass
class VisaStamp:
    full_name: str
    qualite: str  # « acheteuse référente »
    organisation: str
    given_at: datetime  # timezone-aware UTC; printed in Europe/Paris
    sha256: str  # of the stored original the visa was given on
    side: str  # acheteur | titulaire
    audit: str = ""  # « n° 42, 3f9a0c1e2b4d… »: the visa's entry in the contract's audit chain


@dataclass
class Signatory:
    full_name: str
    qualite: str


@dataclass
class AmendmentDocument:
    number: int  # avenant n°
    contract: ContractInfo
    buyer: Party
    holder: Party
    draft_date: date
    modifications: list[Modification]
    basis: str  # code of app.changes.legal.BASES
    basis_label: str  # « article R2194-8 du code de la commande publique »
    justification: str
    amount_ht: Decimal  # this amendment, signed (0 when sans incidence)
    history: list[HistoryRow]  # every amendment up to and including this one
    threshold: Threshold  # used for this one
    other_threshold: Threshold | None  # consultation date's row, shown « pour information »
    warnings: list[Warning]
    cao_opinion: bool  # prints « Avis préalable de la CAO : séance du … » in D
    diff_title: str  # « Évolution du plan de progrès : version 2 → version 3 »
    diff: list[DiffLine]
    holder_signatory: Signatory | None = None  # pre-fills E
    visas: list[VisaStamp] = field(default_factory=list)  # stamped copy only
    pending_sides: list[str] = field(default_factory=list)  # dashed boxes in the original
    print_warnings: bool = True  # the « points de vigilance » in the annex (a setting)
    pdf_sha256: str = ""  # DOCX only: the hash of the PDF the visas cover


@dataclass
class LetterDocument:
    """The buyer's letter (LEGAL.md §G)."""

    change_number: int  # évolution n° k
    from_label: str  # « version 1 »
    to_label: str  # « version 2 »
    contract: ContractInfo
    buyer: Party
    holder: Party
    letter_date: date
    occasion: str  # « la revue du 13/10/2026 » or « la demande de modification n° 3 »
    diff: list[DiffLine]
    effective: str  # "" → « à la date de réception de votre accord », else « le jj/mm/aaaa »
    buyer_signatory: Signatory
    visas: list[VisaStamp] = field(default_factory=list)
    pending_sides: list[str] = field(default_factory=list)


@dataclass
class AcceptanceDocument:
    """The holder's acceptance of the letter (LEGAL.md §G)."""

    change_number: int
    contract: ContractInfo
    buyer: Party
    holder: Party
    letter_date: date
    letter_sha256: str
    acceptance_date: date
    diff: list[DiffLine]
    holder_signatory: Signatory
    visas: list[VisaStamp] = field(default_factory=list)
    pending_sides: list[str] = field(default_factory=list)
