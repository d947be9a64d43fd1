import type { ComponentChildren } from 'preact';
import type { Device } from '../api/types';
import { devicePath } from '../app/routes';
import { formatAge } from '../util/format';
import { Badge, Link } from './ui';

export function DeviceTable(props: { devices: Device[]; caption: string; actions?: (d: Device) => ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">State</th>
            <th scope="col">Hardware</th>
            <th scope="col">Version</th>
            <th scope="col">Agent</th>
            <th scope="col">Last seen</th>
            <th scope="col">Update</th>
            {props.actions ? <th scope="col"><span class="visually-hidden">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {props.devices.map((d) => (
            <tr key={d.id}>
              <td>
                <Link href={devicePath(d.id)}>{d.id}</Link>
              </td>
              <td>
                <Badge value={d.status} />
              </td>
              <td>{d.hardware_id}</td>
              <td>{d.image_version || '—'}</td>
              <td>{d.agent_version || '—'}</td>
              <td>{formatAge(d.last_seen)}</td>
              <td>{d.deployment ? <Badge value={d.deployment.state} /> : <span class="muted">—</span>}</td>
              {props.actions ? <td class="row-actions">{props.actions(d)}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
