"""Files in the PWA, end to end in Chromium: a photo taken offline is previewed at once, survives a
reload, uploads by itself when the network is back, and the other person sees its thumbnail,
opens it and downloads the very bytes; a PDF shows its first page; "Keep offline" works offline."""

from __future__ import annotations

import io
import json

import pypdfium2 as pdfium
from PIL import ExifTags, Image
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    Team,
    connection_status,
    go_offline,
    go_online,
    message_list,
    open_channel,
    until,
    wait_until_synced,
)


def photo() -> bytes:
    """A JPEG as a phone writes it: EXIF orientation 6 (turn to view) and a GPS position."""
    image = Image.new("RGB", (640, 480), (220, 40, 40))
    image.paste((40, 40, 220), (0, 0, 320, 480))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def pdf() -> bytes:
    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def attach(page: Page, name: str, mime: str, data: bytes, text: str) -> None:
    page.get_by_label("Attach files").set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
    expect(page.get_by_role("list", name="Files to send")).to_contain_text(name)
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()


def find(page: Page, words: str) -> Locator:
    """Search, and the list of results."""
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search words").fill(words)
    page.get_by_role("button", name="Search messages").click()
    return page.get_by_role("list", name="Search results")


def image_shown(page: Page, alt: str) -> None:
    """An image with this alt text has loaded and has pixels."""
    image = page.get_by_role("img", name=alt).first
    expect(image).to_be_visible()
    selector = json.dumps(f"img[alt={json.dumps(alt)}]")
    until(page, f"[...document.querySelectorAll({selector})].some((img) => img.naturalWidth > 0)")


def test_a_photo_taken_offline_uploads_after_reconnecting_and_arrives_intact(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    until(bob.page, "navigator.serviceWorker.controller !== null")
    original = photo()

    go_offline(bob.context)
    expect(connection_status(bob.page)).to_have_text("Offline")
    attach(bob.page, "site.jpg", "image/jpeg", original, "the crack in the north wall")
    waiting = bob.page.get_by_role("list", name="Messages waiting for their files")
    expect(waiting).to_contain_text("Waiting to upload")
    image_shown(bob.page, "site.jpg")  # the local preview, from IndexedDB

    bob.page.reload()  # still offline: the shell from the service worker, the bytes from IndexedDB
    open_channel(bob.page, "general")
    expect(waiting).to_contain_text("Waiting to upload")
    image_shown(bob.page, "site.jpg")
    expect(message_list(ada.page)).to_have_count(0)

    go_online(bob.context)
    expect(waiting).to_have_count(0)  # uploaded, then the message went out
    wait_until_synced(bob.page)
    expect(message_list(ada.page).filter(has_text="the crack in the north wall")).to_have_count(1)
    image_shown(ada.page, "site.jpg")  # the server's thumbnail

    opened = ada.page.get_by_role("link", name="Open site.jpg").get_attribute("href")
    full = ada.page.request.get(opened or "")
    assert full.status == 200 and full.headers["content-type"] == "image/jpeg" and full.body() == original
    with ada.page.expect_download() as download_info:
        ada.page.get_by_role("link", name="Download site.jpg").click()
    download = download_info.value
    assert download.suggested_filename == "site.jpg"
    with open(download.path(), "rb") as saved:
        assert saved.read() == original
    assert not ada.errors and not bob.errors


def test_a_pdf_shows_its_first_page_and_a_pinned_file_opens_offline(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    document = pdf()
    attach(ada.page, "report.pdf", "application/pdf", document, "the inspection report")
    expect(message_list(bob.page).filter(has_text="the inspection report")).to_have_count(1)
    image_shown(bob.page, "report.pdf")  # the first page, made by the server

    until(bob.page, "navigator.serviceWorker.controller !== null")
    keep = bob.page.get_by_role("button", name="Keep offline: report.pdf")
    keep.click()
    expect(keep).to_have_attribute("aria-pressed", "true")
    pinned = "caches.open('teamtalk-files-pinned').then((c) => c.keys()).then((k) => k.length)"
    assert bob.page.evaluate(pinned) >= 1
    href = bob.page.get_by_role("link", name="Open report.pdf").get_attribute("href")
    results = find(bob.page, "is:file report")  # online: the server's search
    expect(bob.page.get_by_text("Searched every channel you can see.")).to_be_visible()
    expect(results.get_by_role("link", name="Open report.pdf")).to_have_count(1)
    go_offline(bob.context)
    size = bob.page.evaluate(f"async () => (await (await fetch({href!r})).arrayBuffer()).byteLength")
    assert size == len(document)
    results = find(bob.page, "is:file report from:ada")  # offline: the same rules over this device
    expect(bob.page.get_by_text("Searched only messages on this device.")).to_be_visible()
    expect(results.get_by_role("link", name="Open report.pdf")).to_have_count(1)

    # Settings shows the space files take per channel and frees it; a file waiting to upload stays.
    open_channel(bob.page, "general")
    attach(bob.page, "notes.txt", "text/plain", b"measured the north wall\n", "my notes")
    waiting = bob.page.get_by_role("list", name="Messages waiting for their files")
    expect(waiting).to_contain_text("notes.txt")
    bob.page.get_by_role("link", name="Devices").click()
    space = bob.page.get_by_role("region", name="Files on this device")
    row = space.get_by_role("listitem").filter(has_text="#general")
    expect(row).to_contain_text("1 file pinned")
    expect(row).to_contain_text("waiting to upload")
    row.get_by_role("button", name="Free space: #general").click()
    expect(row).not_to_contain_text("pinned")
    # Neither the pinned nor the recent copy is left (the browser's HTTP cache is not ours to free).
    assert bob.page.evaluate(f"caches.match({href!r}).then((r) => r === undefined)") is True
    open_channel(bob.page, "general")
    expect(waiting).to_contain_text("notes.txt")
    expect(bob.page.get_by_role("button", name="Keep offline: report.pdf")).to_have_attribute("aria-pressed", "false")


def test_a_photo_queued_offline_uploads_by_background_sync_with_the_app_closed(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    until(bob.page, "navigator.serviceWorker.controller !== null")
    original = photo()
    go_offline(bob.context)
    attach(bob.page, "gate.jpg", "image/jpeg", original, "the gate at dusk")
    expect(bob.page.get_by_role("list", name="Messages waiting for their files")).to_contain_text("Waiting to upload")
    until(
        bob.page, "navigator.serviceWorker.ready.then((r) => r.sync.getTags()).then((tags) => tags.includes('uploads'))"
    )
    assert not bob.errors
    bob.page.close()  # no page of the app is left: only the service worker can upload it

    go_online(bob.context)
    expect(message_list(ada.page).filter(has_text="the gate at dusk")).to_have_count(1)
    image_shown(ada.page, "gate.jpg")
    href = ada.page.get_by_role("link", name="Open gate.jpg").get_attribute("href")
    assert ada.page.request.get(href or "").body() == original
    # Opened once, it is kept for offline use (within the recent-files budget), without a pin.
    read = f"fetch({href!r}).then((r) => r.arrayBuffer()).then((b) => b.byteLength)"
    assert ada.page.evaluate(read) == len(original)
    recent = f"caches.open('teamtalk-files-recent').then((c) => c.match({href!r}))"
    until(ada.page, f"{recent}.then((r) => r !== undefined)")
    go_offline(ada.context)
    assert ada.page.evaluate(f"{recent}.then((r) => r.arrayBuffer()).then((b) => b.byteLength)") == len(original)
    assert ada.page.evaluate(read) == len(original)
    assert not ada.errors


def test_a_new_version_is_uploaded_over_a_file_and_the_earlier_one_stays_downloadable(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    first, second = b"site plan, draft\n", b"site plan, approved by the client\n"
    attach(ada.page, "plan.txt", "text/plain", first, "the site plan")
    expect(message_list(bob.page).filter(has_text="the site plan")).to_have_count(1)

    # A text file shows its first lines as text, fetched when asked.
    bob.page.get_by_role("button", name="Show text: plan.txt").click()
    expect(bob.page.get_by_label("First lines of plan.txt")).to_have_text(first.decode())

    ada.page.get_by_role("button", name="Files", exact=True).click()
    files = ada.page.get_by_role("list", name="Files")
    files.get_by_label("Upload new version of plan.txt").set_input_files(
        files=[{"name": "plan.txt", "mimeType": "text/plain", "buffer": second}]
    )
    expect(files.get_by_role("listitem").filter(has_text="plan.txt")).to_have_count(1)  # one file, two versions

    bob.page.get_by_role("button", name="Files", exact=True).click()
    theirs = bob.page.get_by_role("list", name="Files")
    theirs.get_by_text("2 versions").click()
    versions = theirs.get_by_role("list", name="Versions of plan.txt")
    for number, data in ((2, second), (1, first)):
        with bob.page.expect_download() as download_info:
            versions.get_by_role("link", name=f"Download version {number} of plan.txt").click()
        with open(download_info.value.path(), "rb") as saved:
            assert saved.read() == data

    # Deleting the newest version hides it for everyone; the earlier one is the file again.
    ada.page.once("dialog", lambda dialog: dialog.accept())
    files.get_by_role("button", name="Delete plan.txt").click()
    expect(theirs.get_by_text("2 versions")).to_have_count(0)
    expect(theirs.get_by_role("link", name="plan.txt")).to_have_count(1)
    assert not ada.errors and not bob.errors


def test_a_photo_goes_as_a_smaller_copy_when_asked_and_the_choice_is_remembered(team: Team) -> None:
    ada, _ = team
    open_channel(ada.page, "general")
    camera = ada.page.get_by_label("Take photo")  # phones open the camera for this input
    assert camera.get_attribute("capture") == "environment" and camera.get_attribute("accept") == "image/*"
    # Files can also be dropped on the composer or pasted into the message box.
    ada.page.get_by_role("textbox", name="Message").evaluate(
        """(box) => {
          const carrying = (name) => { const d = new DataTransfer(); d.items.add(new File(['x'], name)); return d; };
          const how = { bubbles: true, cancelable: true };
          box.form.dispatchEvent(new DragEvent('drop', { ...how, dataTransfer: carrying('dropped.txt') }));
          box.dispatchEvent(new ClipboardEvent('paste', { ...how, clipboardData: carrying('pasted.txt') }));
        }"""
    )
    chosen = ada.page.get_by_role("list", name="Files to send")
    expect(chosen).to_contain_text("dropped.txt")
    expect(chosen).to_contain_text("pasted.txt")
    ada.page.get_by_role("button", name="Remove dropped.txt").click()
    ada.page.get_by_role("button", name="Remove pasted.txt").click()
    expect(chosen).to_have_count(0)
    out = io.BytesIO()
    Image.new("RGB", (3000, 1500), (30, 120, 60)).save(out, "PNG")
    big = {"name": "field.png", "mimeType": "image/png", "buffer": out.getvalue()}

    ada.page.get_by_label("Attach files").set_input_files(files=[big])
    smaller = ada.page.get_by_label("Send smaller photos (2048 px)")
    expect(smaller).not_to_be_checked()  # the original unless asked
    smaller.check()
    ada.page.get_by_role("textbox", name="Message").fill("the field, smaller")
    ada.page.get_by_role("button", name="Send").click()
    opened = ada.page.get_by_role("link", name="Open field.jpg")  # made on the device, as JPEG
    expect(opened).to_have_count(1)
    copy = Image.open(io.BytesIO(ada.page.request.get(opened.get_attribute("href") or "").body()))
    assert copy.format == "JPEG" and copy.size == (2048, 1024)

    ada.page.reload()
    open_channel(ada.page, "general")
    ada.page.get_by_label("Attach files").set_input_files(files=[big])
    expect(ada.page.get_by_label("Send smaller photos (2048 px)")).to_be_checked()
    assert not ada.errors
