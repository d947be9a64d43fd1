// A deployment's selector as label/text rows, for the wizard's review and the deployment page.
// Pure, tested.
import type { Selector } from '../api/types';

export interface SelectorEntry {
  key: keyof Selector;
  label: string;
  text: string;
}

const kLabels: Record<keyof Selector, string> = {
  group: 'group',
  devices: 'devices',
  tags: 'tags',
  hardware_id: 'hardware id',
  image_version: 'image version',
  attributes: 'attributes',
};

// In a fixed order (group first: it is the narrowest), empty criteria left out.
export function selectorEntries(selector: Selector | null | undefined): SelectorEntry[] {
  if (!selector) return [];
  const out: SelectorEntry[] = [];
  for (const key of Object.keys(kLabels) as Array<keyof Selector>) {
    const v = selector[key];
    let text: string;
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) text = v.join(', ');
    else if (typeof v === 'object') text = Object.entries(v).map(([a, b]) => `${a}=${b}`).join(', ');
    else text = String(v);
    if (text) out.push({ key, label: kLabels[key], text });
  }
  return out;
}
