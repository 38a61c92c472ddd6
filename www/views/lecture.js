// The Lecture menu: a preset from lectures.js opens its picture, and its caption stays beside
// the map, with one button per model when the preset compares several.

export class LectureView {
  /**
   * @param {HTMLSelectElement} menu the Lecture select
   * @param {HTMLElement} panel holds data-role="title", "caption", "choices"
   * @param {object[]} lectures the presets (see lectures.js)
   * @param {(lecture: object|null, choice: object|null) => void} onOpen opens a preset with one
   *   of its `choices` (null for a live preset), or closes the lecture (both null)
   */
  constructor(menu, panel, lectures, onOpen) {
    this.menu = menu;
    this.panel = panel;
    this.lectures = lectures;
    this.onOpen = onOpen;
    this.title = panel.querySelector('[data-role="title"]');
    this.caption = panel.querySelector('[data-role="caption"]');
    this.choices = panel.querySelector('[data-role="choices"]');
    this.current = null;
    this.choice = null;
    menu.add(new Option('Choose…', ''));
    for (const lecture of lectures) menu.add(new Option(lecture.title, lecture.id));
    menu.addEventListener('change', () => this.open(menu.value));
  }

  /** Opens preset `id` ('' closes the lecture) with the choice for `checkpoint` (default: the first). */
  open(id, checkpoint = null) {
    const lecture = this.lectures.find((l) => l.id === id) ?? null;
    this.menu.value = lecture ? id : '';
    this.current = lecture;
    this.panel.hidden = !lecture;
    if (!lecture) {
      this.choice = null;
      this.onOpen(null, null);
      return;
    }
    this.title.textContent = lecture.title;
    this.caption.textContent = lecture.caption;
    const choices = lecture.choices ?? [];
    this.choices.replaceChildren(
      ...choices.map((choice) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = choice.label;
        button.addEventListener('click', () => this.choose(choice));
        return button;
      }),
    );
    // One model needs no buttons; its label still names it.
    this.choices.hidden = choices.length < 2;
    this.choose(choices.find((c) => c.checkpoint === checkpoint) ?? choices[0] ?? null);
  }

  choose(choice) {
    this.choice = choice;
    const buttons = [...this.choices.children];
    (this.current.choices ?? []).forEach((c, i) => buttons[i].setAttribute('aria-pressed', String(c === choice)));
    this.onOpen(this.current, choice);
  }

  /** What the view shows, for tests. */
  snapshot() {
    if (!this.current) return null;
    return { id: this.current.id, checkpoint: this.choice?.checkpoint ?? null, caption: this.caption.textContent };
  }
}
