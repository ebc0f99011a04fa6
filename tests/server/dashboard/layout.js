// What test_layout.py asks of every page, measured in the browser: a list of problems, each a
// sentence naming the element (empty when the page fits its screen).
() => {
  const problems = [];
  const TOLERANCE = 1;  // px: sub-pixel rounding
  const MIN_FONT = 11;  // px, as rendered (an SVG's text shrinks with the SVG)

  function describe(el) {
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    const cls = el.getAttribute("class");
    if (cls) name += "." + cls.trim().split(/\s+/).join(".");
    const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return text ? `${name} "${text}"` : name;
  }

  function where(el) {
    const card = el.closest("section.card, .login");
    const heading = card && card.querySelector("h2, h1");
    return heading ? ` in "${heading.textContent.trim()}"` : "";
  }

  function scrolls(el) {
    const overflow = getComputedStyle(el).overflowX;
    return overflow === "auto" || overflow === "scroll" || overflow === "hidden";
  }

  function visible(el) {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
  }

  // The page itself never scrolls sideways.
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + TOLERANCE) {
    problems.push(`the page is ${root.scrollWidth} px wide in a ${root.clientWidth} px window`);
  }

  // No card's content is wider than the card; a scrolling wrapper inside it is its content.
  for (const card of document.querySelectorAll("section.card, .login")) {
    if (!visible(card) || card.scrollWidth <= card.clientWidth + TOLERANCE) continue;
    const right = card.getBoundingClientRect().left + card.clientLeft + card.clientWidth;
    let culprit = null;
    for (const el of card.querySelectorAll("*")) {
      let inner = el.parentElement, hidden = false;
      while (inner && inner !== card) {
        if (scrolls(inner)) { hidden = true; break; }
        inner = inner.parentElement;
      }
      if (!hidden && el.getBoundingClientRect().right > right + TOLERANCE) { culprit = el; break; }
    }
    problems.push(
      `card${where(card)} overflows: content ${card.scrollWidth} px in ${card.clientWidth} px` +
      (culprit ? `, e.g. ${describe(culprit)}` : ""));
  }

  // Readable text outside SVGs.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const small = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || !node.textContent.trim() || el.closest("svg, script, style, option")) continue;
    if (!visible(el) || small.has(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < MIN_FONT - 0.01) {
      small.add(el);
      problems.push(`${describe(el)}${where(el)} is ${size.toFixed(1)} px`);
    }
  }

  // Every SVG's labels: readable, inside the picture, never on top of one another.
  for (const svg of document.querySelectorAll("svg")) {
    if (!visible(svg)) continue;
    const frame = svg.getBoundingClientRect();
    const boxes = [];
    for (const text of svg.querySelectorAll("text")) {
      if (!text.textContent.trim() || !visible(text)) continue;
      const m = text.getScreenCTM();
      const scale = m ? Math.hypot(m.a, m.b) : 1;
      const size = parseFloat(getComputedStyle(text).fontSize) * scale;
      const label = `label "${text.textContent.trim().slice(0, 30)}" of ${describe(svg).slice(0, 40)}${where(svg)}`;
      if (size < MIN_FONT - 0.01) problems.push(`${label} is ${size.toFixed(1)} px`);
      const r = text.getBoundingClientRect();
      if (r.left < frame.left - TOLERANCE || r.right > frame.right + TOLERANCE ||
          r.top < frame.top - TOLERANCE || r.bottom > frame.bottom + TOLERANCE) {
        problems.push(`${label} is cut off by its chart's edge`);
      }
      // The glyphs, not the line box: a line box is taller than the letters in it.
      const trim = size * 0.15;
      boxes.push({ label, left: r.left, right: r.right, top: r.top + trim, bottom: r.bottom - trim,
                   text: text.textContent.trim() });
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > TOLERANCE && h > TOLERANCE) {
          problems.push(`${a.label} overlaps "${b.text.slice(0, 30)}"`);
        }
      }
    }
  }
  return problems;
}
