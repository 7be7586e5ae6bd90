"""The AE list writes its rows in safety/ae_table.html: one cell per column, in the columns' order."""

import re

from safety.services import void_adverse_event
from tests.factories import make_ae, make_participant


def test_every_row_has_the_columns_cells_in_order(login, coordinator, sh01, study):
    participant = make_participant(site=sh01, user=coordinator)
    minor = make_ae(participant=participant, user=coordinator, grade=3, related="possible", term="Anemia")
    voided = make_ae(participant=participant, user=coordinator, grade=1, term="Fatigue")
    void_adverse_event(ae=voided, user=coordinator, reason="Duplicate entry")
    death = make_ae(participant=participant, user=coordinator, grade=5, related="definite")
    html = login(coordinator).get("/adverse-events/").content.decode()
    table = html[html.index("<table") : html.index("</table>")]
    headers = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]
    assert headers == [
        "#",
        "Subject",
        "Site",
        "Term",
        "System organ class",
        "Grade",
        "SAE",
        "Related",
        "Onset",
        "Outcome",
    ]
    rows = re.findall(r"<tr class=\"([^\"]*)\">(.*?)</tr>", table, re.S)
    cells = {
        int(re.search(r">(\d+)</a>", body).group(1)): (css, re.findall(r"<td>(.*?)</td>", body, re.S))
        for css, body in rows
    }
    css, row = cells[minor.pk]
    assert len(row) == len(headers)
    assert [re.sub(r"<[^>]+>", "", c) for c in row] == [
        str(minor.pk), participant.subject_id, "SH01", "Anemia", minor.soc, "3", "✘", "✔",
        minor.onset_date.isoformat(), minor.get_outcome_display(),
    ]  # fmt: skip
    assert f'href="/participants/{participant.subject_id}/"' in row[1] and "text-bg-warning" in row[5]
    assert "table-danger" in cells[death.pk][0] and "text-bg-danger" in cells[death.pk][1][5]
    assert "text-decoration-line-through" in cells[voided.pk][0]
    assert "line-through" not in css and "table-danger" not in css
