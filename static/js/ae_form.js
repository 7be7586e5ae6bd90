// CTCAE term picker for the AE form: suggestions as you type, the system organ class and
// the term's grade definitions once a term is chosen. Served by our own server (no CDN).
(function () {
  "use strict";
  const input = document.querySelector("[data-term-picker]");
  if (!input) return;
  // The URL comes from the page as data (no inline script: the Content-Security-Policy forbids it).
  const page = document.getElementById("term-search-url").dataset;
  const searchUrl = page.termSearchUrl;
  // Labels in the user's language, from the page (translated by Django).
  const gradeLabel = page.labelGrade || "Grade";
  const undefinedLabel = page.labelUndefined || "not defined for this term";
  const list = document.getElementById("ctcae-terms");
  const info = document.getElementById("term-info");
  const gradeInfo = document.getElementById("grade-info");
  const specify = document.getElementById("id_other_specify");
  const known = new Map();
  let timer = null;

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  function show(term) {
    info.replaceChildren();
    gradeInfo.replaceChildren();
    if (!term) return;
    info.append(text("strong", term.soc), text("span", term.definition ? " — " + term.definition : ""));
    if (specify) {
      specify.required = term.other_specify;
      specify.closest(".mb-3").style.display = term.other_specify ? "" : "none";
    }
    const table = document.createElement("table");
    table.className = "table table-sm table-bordered mb-0";
    for (let g = 1; g <= 5; g++) {
      const definition = term.grades[String(g)];
      const row = table.insertRow();
      row.append(text("th", gradeLabel + " " + g, "text-nowrap"));
      row.append(text("td", definition === "-" ? undefinedLabel : definition,
                      definition === "-" ? "text-muted" : ""));
      const radio = document.querySelector('input[name="grade"][value="' + g + '"]');
      if (radio) radio.disabled = definition === "-";
    }
    gradeInfo.append(table);
  }

  async function search(q) {
    const response = await fetch(searchUrl + "?q=" + encodeURIComponent(q), {credentials: "same-origin"});
    if (!response.ok) return;
    const data = await response.json();
    list.replaceChildren();
    for (const term of data.results) {
      known.set(term.term.toLowerCase(), term);
      const option = document.createElement("option");
      option.value = term.term;
      option.label = term.soc;
      list.append(option);
    }
    pick();
  }

  function pick() {
    show(known.get(input.value.trim().toLowerCase()));
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length >= 2) timer = setTimeout(function () { search(q); }, 150);
    pick();
  });
  input.addEventListener("change", pick);
  if (input.value.trim()) search(input.value.trim());
  else if (specify) specify.closest(".mb-3").style.display = "none";
})();
