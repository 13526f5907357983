/**
 * The job form's fields of the run this tab has going, kept in session storage with it: a reload
 * that continues the run shows the run's own settings, not the form's defaults (3 epochs).
 */
const KEY = 'gradroom-host-live-form';

type Field = HTMLInputElement | HTMLSelectElement;

function fields(root: HTMLElement): Field[] {
  return [...root.querySelectorAll<Field>('input[id], select[id]')];
}

export function rememberForm(root: HTMLElement): void {
  const values: Record<string, string | boolean> = {};
  for (const f of fields(root))
    values[f.id] = f instanceof HTMLInputElement && f.type === 'checkbox' ? f.checked : f.value;
  sessionStorage.setItem(KEY, JSON.stringify(values));
}

/**
 * Puts the remembered values back in document order, each announced with input and change events,
 * so fields that follow another (α after the optimizer, the sizes after the data set) settle as
 * when a person sets them.
 */
export function restoreForm(root: HTMLElement): void {
  let values: Record<string, unknown>;
  try {
    values = JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Record<string, unknown>;
  } catch {
    return;
  }
  for (const f of fields(root)) {
    const v = values[f.id];
    if (f instanceof HTMLInputElement && f.type === 'checkbox') {
      if (typeof v !== 'boolean' || f.checked === v) continue;
      f.checked = v;
    } else {
      if (typeof v !== 'string' || f.value === v) continue;
      f.value = v;
    }
    f.dispatchEvent(new Event('input', { bubbles: true }));
    f.dispatchEvent(new Event('change', { bubbles: true }));
  }
}
