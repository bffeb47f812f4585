"""The difficulty pages through HTTP: raising with files, the register, acting, the thread,
the export, and who sees what."""

import io
import re

from sqlalchemy import func, select

from app.attachments.models import Attachment
from app.difficulties.models import Difficulty
from app.extensions import db
from tests.difficulties.conftest import PDF, VALUES
from tests.helpers import logged_in_client, page_text


def url(world, path=""):
    return f"/contrats/{world.contract.id}/difficultes/{path}"


def raise_through_form(client, world, draft, **extra):
    data = {**VALUES, "items": [draft.objective.uid],
            "files": [(io.BytesIO(PDF), "constat.pdf")], **extra}  # fmt: skip
    return client.post(url(world, "nouvelle"), data=data, content_type="multipart/form-data")


def test_the_supplier_raises_a_difficulty_with_evidence(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    form = supplier.get(url(world, "nouvelle"))
    assert form.status_code == 200 and draft.objective.title in page_text(form)
    response = raise_through_form(supplier, world, draft)
    assert response.status_code == 302
    difficulty = db.session.scalar(select(Difficulty))
    assert response.headers["Location"].endswith(f"/difficultes/{difficulty.id}")
    page = page_text(supplier.get(response.headers["Location"]))
    assert "Retard de livraison des tissus recyclés" in page and "constat.pdf" in page
    assert "<strong>deux semaines</strong>" in supplier.get(response.headers["Location"]).get_data(
        as_text=True
    )
    buyer = logged_in_client(app, world.buyer_lead)
    attachment = difficulty.attachments[0]
    download = buyer.get(f"/contrats/{world.contract.id}/pieces/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    download.close()


def test_bad_input_gets_422_in_french_and_keeps_the_text(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    response = raise_through_form(supplier, world, draft, title="", severity="")
    page = page_text(response)
    assert response.status_code == 422
    assert "Donnez un objet à la difficulté." in page and "Choisissez une gravité." in page
    assert "Le filateur a **deux semaines** de retard." in page  # the description is kept
    assert "choisissez-les à nouveau" in page  # files cannot be kept by a browser: say so
    assert db.session.scalar(select(func.count()).select_from(Difficulty)) == 0


def test_a_disguised_executable_is_refused_next_to_the_file_field(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    response = raise_through_form(supplier, world, draft,
                                  files=[(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "facture.pdf")])  # fmt: skip
    assert response.status_code == 422
    assert "facture.pdf" in page_text(response)
    assert db.session.scalar(select(func.count()).select_from(Difficulty)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_an_oversized_request_gets_413(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    big = io.BytesIO(b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024))
    response = raise_through_form(supplier, world, draft, files=[(big, "gros.pdf")])
    # The test client spooled the body to a temporary file that the refused request never read.
    response.request.environ["wsgi.input"].close()
    assert response.status_code == 413
    assert "Fichier trop volumineux" in page_text(response)
    assert db.session.scalar(select(func.count()).select_from(Difficulty)) == 0


def test_a_path_traversal_name_is_stored_harmlessly(app, world, draft, tmp_path):
    supplier = logged_in_client(app, world.supplier_lead)
    response = raise_through_form(
        supplier, world, draft, files=[(io.BytesIO(PDF), "../../../etc/passwd.pdf")]
    )
    assert response.status_code == 302
    attachment = db.session.scalar(select(Attachment))
    assert "/" not in attachment.display_name and ".." not in attachment.display_name
    stored = list((tmp_path / "pieces").rglob("*"))
    assert [p for p in stored if p.is_file()] == [
        tmp_path / "pieces" / str(world.contract.id) / attachment.storage_key
    ]


def test_the_buyer_acknowledges_and_a_stale_page_gets_409_with_its_text(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    location = raise_through_form(supplier, world, draft).headers["Location"]
    buyer, colleague = (
        logged_in_client(app, world.buyer_lead),
        logged_in_client(app, world.buyer_contributor),
    )
    page = buyer.get(location).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert "Prendre en compte" in page_text(buyer.get(location))
    assert "Prendre en compte" not in page_text(supplier.get(location))  # not the raising side
    ok = buyer.post(location + "/prendre_en_compte", data={"version": version, "note": "Vu"},
                    headers={"HX-Request": "true"})  # fmt: skip
    assert ok.status_code == 200 and "Prise en compte" in page_text(ok)
    late = colleague.post(location + "/renvoyer_en_revue",
                          data={"version": version, "note": "Mon texte à garder"},
                          headers={"HX-Request": "true"})  # fmt: skip
    assert late.status_code == 409
    assert "Mon texte à garder" in page_text(late) and "a changé" in page_text(late)
    missing_note = colleague.post(location + "/resoudre", data={"version": str(int(version) + 1), "note": ""},
                                  headers={"HX-Request": "true"})  # fmt: skip
    assert missing_note.status_code == 422 and "obligatoire" in page_text(missing_note)


def test_observers_and_wrong_sides_are_refused(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    location = raise_through_form(supplier, world, draft).headers["Location"]
    observer = logged_in_client(app, world.observer)
    assert observer.get(location).status_code == 200
    assert observer.get(url(world, "nouvelle")).status_code == 403
    assert observer.post(location + "/prendre_en_compte", data={"version": "1"}).status_code == 403
    assert supplier.post(location + "/prendre_en_compte", data={"version": "1"}).status_code == 403
    assert supplier.post(location + "/inventee", data={"version": "1"}).status_code == 404
    outsider = logged_in_client(app, world.outsider)
    assert outsider.get(location).status_code == 404
    assert outsider.get(url(world)).status_code == 404
    # a member of A asking for A's difficulty under B's id, and the reverse
    other = f"/contrats/{world.other_contract.id}/difficultes/{location.rsplit('/', 1)[1]}"
    assert outsider.get(other).status_code == 404


def test_internal_notes_never_reach_the_other_side(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    location = raise_through_form(supplier, world, draft).headers["Location"]
    buyer = logged_in_client(app, world.buyer_lead)
    sent = buyer.post(location + "/messages", data={"body": "CANARY-INTERNE pénalités ?", "internal": "y"},
                      headers={"HX-Request": "true"})  # fmt: skip
    assert (
        sent.status_code == 200
        and "CANARY-INTERNE" in page_text(sent)
        and "Note interne" in page_text(sent)
    )
    buyer.post(location + "/messages", data={"body": "Réponse partagée"})
    for path in (location, location + "/fil", location + "/suivi", url(world), url(world, "export.csv"),
                 "/notifications/", "/notifications/cloche"):  # fmt: skip
        text = page_text(supplier.get(path))
        assert "CANARY-INTERNE" not in text and "Note interne —" not in text, path
        assert "note interne sur" not in text, path  # nor its notification
    assert "Réponse partagée" in page_text(supplier.get(location + "/fil"))
    assert "CANARY-INTERNE" in page_text(
        logged_in_client(app, world.buyer_contributor).get(location + "/fil")
    )


def test_empty_message_gets_422_and_keeps_nothing_lost(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    location = raise_through_form(supplier, world, draft).headers["Location"]
    response = supplier.post(
        location + "/messages", data={"body": "   "}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422 and "Écrivez votre message" in page_text(response)


def test_register_filters_export_and_plan_badges(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    raise_through_form(supplier, world, draft)
    raise_through_form(supplier, world, draft, title="Autre souci", severity="faible", items=[])
    buyer = logged_in_client(app, world.buyer_lead)
    page = page_text(buyer.get(url(world)))
    assert "Retard de livraison" in page and "Autre souci" in page and "2 non résolues" in page
    filtered = buyer.get(url(world) + "?gravite=faible", headers={"HX-Request": "true"})
    assert "Autre souci" in page_text(filtered) and "Retard de livraison" not in page_text(filtered)
    assert "<html" not in filtered.get_data(as_text=True)  # a fragment
    by_item = page_text(buyer.get(url(world) + f"?element={draft.objective.uid}"))
    assert "Retard de livraison" in by_item and "Autre souci" not in by_item
    export = buyer.get(url(world, "export.csv"))
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    assert export.get_data(as_text=True).count("\r\n") == 3
    plan = page_text(buyer.get(f"/contrats/{world.contract.id}/plan/"))
    assert "1 difficulté non résolue" in plan
    home = page_text(buyer.get(f"/contrats/{world.contract.id}/"))
    assert "2 difficultés non résolues" in home


def test_a_refused_difficulty_leaves_no_file_behind(app, world, draft, tmp_path):
    """The first file is fine, the second is refused: the whole difficulty is refused, and the
    first file, already written, is removed with the rolled-back transaction."""
    supplier = logged_in_client(app, world.supplier_lead)
    response = raise_through_form(supplier, world, draft, files=[
        (io.BytesIO(PDF), "bon.pdf"), (io.BytesIO(b"<html><script>x</script></html>"), "faux.pdf")])  # fmt: skip
    assert response.status_code == 422 and "faux.pdf" in page_text(response)
    assert 'id="files-erreur"' in response.get_data(as_text=True)  # next to the file input
    assert [p for p in (tmp_path / "pieces").rglob("*") if p.is_file()] == []
