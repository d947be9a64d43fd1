// Confirmation for actions that change a fleet, on the native <dialog>: focus is trapped,
// Escape cancels, and focus returns to the button that opened it.
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { Button } from './ui';

export interface ConfirmProps {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  // When set, the dialog asks for a reason (pause, pause-all).
  reason?: { label: string; value: string; onInput: (v: string) => void; required?: boolean };
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog(props: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const reasonId = useId();

  // Mounted only while open (so closed dialogs leave no buttons in the page); focus goes back
  // to whatever opened it.
  useEffect(() => {
    const d = ref.current;
    if (!props.open || !d) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!d.open) d.showModal();
    return () => {
      if (d.open) d.close();
      if (opener?.isConnected) opener.focus();
    };
  }, [props.open]);

  const missingReason = Boolean(props.reason?.required && !props.reason.value.trim());
  if (!props.open) return null;
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        if (!props.busy) props.onCancel();
      }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!missingReason && !props.busy) props.onConfirm();
        }}
      >
        <h2 id={titleId}>{props.title}</h2>
        <div class="dialog-body">{props.children}</div>
        {props.reason ? (
          <div class="field">
            <label for={reasonId}>{props.reason.label}</label>
            <input
              id={reasonId}
              type="text"
              maxLength={500}
              required={props.reason.required}
              value={props.reason.value}
              onInput={(e) => props.reason?.onInput((e.target as HTMLInputElement).value)}
            />
          </div>
        ) : null}
        <div class="dialog-actions">
          <Button variant="ghost" onClick={props.onCancel} disabled={props.busy}>
            Cancel
          </Button>
          <Button type="submit" variant={props.danger ? 'danger' : 'primary'} busy={props.busy} disabled={missingReason} mutates>
            {props.confirmLabel}
          </Button>
        </div>
      </form>
    </dialog>
  );
}
