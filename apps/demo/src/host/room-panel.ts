/**
 * The room panel of the host page: create a room (with a key when the server asks for one), show
 * its link and QR codes, host it again after a reload, and say who is in it.
 */
import type { PeerEvent } from '@gradroom/coordinator/browser';
import QRCode from 'qrcode';
import { byId, el } from '../ui/dom.js';
import { fitOneLine } from '../ui/fit.js';
import { type HostContext, plainReason } from './context.js';
import type { CreatedRoom } from './room.js';

const ROOM_KEY = 'gradroom-host-room';

export interface RoomPanel {
  /** Rewrites the "N volunteers in the room" lines. */
  showPeople(): void;
  /** A volunteer joined, was accepted, turned away or left. */
  onPeer(e: PeerEvent): void;
  /** After a reload: hosts the room this tab had, if the server still keeps it. */
  hostAgain(): Promise<void>;
}

export function roomPanel(ctx: HostContext): RoomPanel {
  const $create = byId<HTMLButtonElement>('create-room');

  function showPeople(): void {
    const n = ctx.roster.present().length;
    byId('room-people').textContent =
      n === 0
        ? 'No volunteers yet.'
        : `${n} volunteer${n === 1 ? '' : 's'} in the room${ctx.phase === 'idle' ? ', waiting for the run to start' : ''}.`;
    byId('projector-people').textContent = String(n);
    byId('projector-people-word').textContent = n === 1 ? 'student' : 'students';
    ctx.dirty++;
  }

  function onPeer(e: PeerEvent): void {
    const { roster, log } = ctx;
    if (e.type === 'joined' || e.type === 'accepted') {
      const p = roster.join(e.id, e.name, e.via, e.type === 'accepted');
      if (e.type === 'accepted')
        log(`${p.name} joined${p.sessions > 1 ? ' again' : ''} via ${e.via === 'relay' ? 'the relay' : 'WebRTC'}`);
    } else {
      const p = roster.get(e.id);
      const reason = plainReason(e.reason);
      if (e.type === 'rejected') log(`${p?.name ?? e.id} was turned away: ${reason}`);
      else log(`${p?.name ?? e.id} left${reason ? ` (${reason})` : ''}`);
      roster.leave(e.id, reason || 'left');
    }
    showPeople();
  }

  async function showRoom(created: CreatedRoom, again: boolean): Promise<void> {
    ctx.room = created;
    sessionStorage.setItem(ROOM_KEY, JSON.stringify(created));
    byId<HTMLInputElement>('join-link').value = created.joinUrl;
    byId('room-info').hidden = false;
    byId('qr-box').hidden = false;
    byId('room-key-row').hidden = true;
    for (const [id, width] of [
      ['qr', 232],
      ['projector-qr', 360],
    ] as const) {
      await QRCode.toCanvas(byId<HTMLCanvasElement>(id), created.joinUrl, {
        width,
        margin: 1,
        errorCorrectionLevel: 'M',
        color: { dark: '#1d2733', light: '#ffffff' },
      });
    }
    // the projector's code scales with its column (CSS), not with the size toCanvas writes inline
    byId('projector-qr').style.removeProperty('width');
    byId('projector-qr').style.removeProperty('height');
    // the short link, typed on a phone in seconds; the long one only where the server has no codes
    const short = created.shortUrl?.replace(/^https?:\/\//, '');
    byId('projector-link').textContent = short ?? created.joinUrl.replace(/#.*/, '#…');
    byId('projector-code').textContent = created.code ?? '';
    fitOneLine(byId('projector-link'));
    byId('room-code').textContent = created.code ? `Room code ${created.code} · type ${short}` : '';
    if (/^(localhost|127\.|\[::1\])/.test(location.hostname)) {
      const note = byId('lan-note');
      note.hidden = false;
      note.replaceChildren(
        'This link uses this computer’s local address, so it works in other tabs here. For a classroom, start the server with ',
        el('code', { class: 'nowrap' }, '--host 0.0.0.0'),
        ' and open this page through the computer’s network address.',
      );
    }
    $create.disabled = true;
    $create.textContent = 'Room created';
    ctx.log(again ? `room ${created.label} hosted again after a reload` : `room ${created.label} created`);
    showPeople();
  }

  byId<HTMLFormElement>('room-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (ctx.room) return;
    const err = byId('room-error');
    err.textContent = '';
    $create.disabled = true;
    try {
      const key = byId<HTMLInputElement>('room-key').value.trim() || undefined;
      await showRoom(await ctx.coordinator.openRoom(key), false);
    } catch (e) {
      $create.disabled = false;
      const message = (e as Error).message;
      if (/needs a room key/.test(message)) {
        byId('room-key-row').hidden = false;
        byId('room-key').focus();
      }
      err.textContent = message;
    }
  });

  async function hostAgain(): Promise<void> {
    const raw = sessionStorage.getItem(ROOM_KEY);
    if (!raw) return;
    let saved: CreatedRoom;
    try {
      saved = JSON.parse(raw) as CreatedRoom;
      if (typeof saved.token !== 'string' || typeof saved.hostKey !== 'string') throw new Error('bad');
    } catch {
      sessionStorage.removeItem(ROOM_KEY);
      return;
    }
    byId('room-error').textContent = '';
    $create.disabled = true;
    $create.textContent = 'Reconnecting to the room…';
    // the server may not yet have seen the old connection close: try a few times
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await showRoom(await ctx.coordinator.openRoom(undefined, saved), true);
        return;
      } catch (e) {
        const message = (e as Error).message;
        if (!/already has a coordinator/.test(message)) {
          sessionStorage.removeItem(ROOM_KEY);
          byId('room-error').textContent =
            `The room of the last session could not be hosted again (${message}). Create a new one.`;
          break;
        }
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
      }
    }
    $create.disabled = false;
    $create.textContent = 'Create a room';
  }

  byId('copy-link').addEventListener('click', async () => {
    const input = byId<HTMLInputElement>('join-link');
    try {
      await navigator.clipboard.writeText(input.value);
      byId('copy-link').textContent = 'Copied';
    } catch {
      input.select(); // no clipboard permission: select it for Ctrl-C
    }
  });

  return { showPeople, onPeer, hostAgain };
}
