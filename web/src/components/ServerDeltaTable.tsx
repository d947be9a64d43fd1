// The deltas aloftd built for one release: base image, build state, patch size and saving.
import type { ServerDeltaRow } from '../app/deltas';
import { releasePath } from '../app/routes';
import { Badge, Link, Mono } from './ui';

export function ServerDeltaTable(props: { rows: ServerDeltaRow[]; caption: string }) {
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">State</th>
            <th scope="col">Size</th>
            <th scope="col">Saving</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.key}>
              <td>
                <Mono title={r.fromSha256}>{r.fromShort}</Mono>
                {r.sourceRelease ? (
                  <>
                    {' '}
                    (<Link href={releasePath(r.sourceRelease)}>{r.sourceRelease}</Link>)
                  </>
                ) : null}
              </td>
              <td>
                <Badge value={r.state} />
                {r.error ? <span class="small"> {r.error}</span> : null}
              </td>
              <td>{r.size}</td>
              <td>{r.saving}</td>
              <td>{r.updated}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
