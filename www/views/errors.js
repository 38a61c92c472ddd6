// The error area: messages for people, kept until dismissed, since an earlier one may name the cause.

export class ErrorArea {
  /** @param {HTMLElement} box holds data-role="messages" and the "dismiss" button */
  constructor(box) {
    this.box = box;
    this.list = box.querySelector('[data-role="messages"]');
    box.querySelector('[data-role="dismiss"]').addEventListener('click', () => this.clear());
  }

  /** Adds a message; the same message twice in a row shows once. */
  show(message) {
    if (this.box.hidden) this.list.replaceChildren();
    if (this.list.lastElementChild?.textContent !== message) {
      const item = document.createElement('p');
      item.textContent = message;
      this.list.append(item);
    }
    this.box.hidden = false;
  }

  clear() {
    this.box.hidden = true;
  }
}
