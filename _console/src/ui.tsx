// Shared pieces: modal dialogs on the native <dialog> element (focus
// trapping and Escape come with it), a confirmation, labelled fields with
// their error next to them, and status messages.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

let nextId = 0;
export function useId(prefix: string): string {
  const ref = useRef<string>();
  if (!ref.current) ref.current = `${prefix}-${++nextId}`;
  return ref.current;
}

export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId('dlg');
  useEffect(() => {
    const d = ref.current!;
    // Focus goes back where it was when the dialog goes away.
    const opener = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    const cancel = (e: Event) => {
      e.preventDefault();
      props.onClose();
    };
    d.addEventListener('cancel', cancel);
    return () => {
      d.removeEventListener('cancel', cancel);
      if (d.open) d.close(); // else the page stays inert and cannot take focus
      if (opener && opener.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={id} class={props.wide ? 'wide' : ''}>
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

export function Confirm(props: { title: string; text: string; action: string; onConfirm: () => void; onCancel: () => void }) {
  return (
    <Dialog title={props.title} onClose={props.onCancel}>
      <p>{props.text}</p>
      <div class="actions">
        <button type="button" onClick={props.onCancel}>CANCEL</button>
        <button type="button" class="danger" onClick={props.onConfirm}>{props.action}</button>
      </div>
    </Dialog>
  );
}

export function Field(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  error?: string;
  type?: string;
  required?: boolean;
  hint?: string;
  autocomplete?: string;
  inputMode?: string;
}) {
  const id = useId('f');
  const err = `${id}-err`;
  const hint = `${id}-hint`;
  const described = [props.error ? err : '', props.hint ? hint : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type={props.type ?? 'text'}
        value={props.value}
        required={props.required}
        autocomplete={props.autocomplete ?? 'off'}
        inputMode={props.inputMode as never}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described}
        onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      {props.hint && <small id={hint}>{props.hint}</small>}
      {props.error && <p id={err} class="error" role="alert">{props.error}</p>}
    </div>
  );
}

export function ErrorBox(props: { error?: string }) {
  return props.error ? <p class="error" role="alert">{props.error}</p> : null;
}

export function Notice(props: { text?: string }) {
  return <p class="notice" role="status" aria-live="polite">{props.text ?? ''}</p>;
}

export function list(a: readonly string[] | null | undefined): string {
  return a && a.length ? a.join(', ') : '—';
}
