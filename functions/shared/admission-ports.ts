/** The admission ports as the handlers wire them: the table, Step Functions' task answers, the clock. */
import type { AdmissionPorts } from './admission';
import type { AdmissionTable } from './aws/admission';
import type { SfnGateway } from './aws/sfn';

export function admissionPorts(
  table: AdmissionTable,
  sfn: Pick<SfnGateway, 'sendTaskSuccess'>,
): AdmissionPorts {
  return {
    readSlots: () => table.readSlots(),
    configureSlots: (m, l) => table.configureSlots(m, l),
    takeSlot: (h, c, n) => table.takeSlot(h, c, n),
    handOffSlot: (f, t) => table.handOffSlot(f, t),
    releaseSlot: (j, s) => table.releaseSlot(j, s),
    setQuotaCeiling: (v, u) => table.setQuotaCeiling(v, u),
    raiseQuotaCeiling: () => table.raiseQuotaCeiling(),
    clearQuotaCeiling: (s) => table.clearQuotaCeiling(s),
    queue: (l) => table.queue(l),
    putWaiter: (w) => table.putWaiter(w),
    removeWaiter: (t, k) => table.removeWaiter(t, k),
    sendTaskSuccess: (t, o) => sfn.sendTaskSuccess(t, o),
    now: () => Date.now(),
  };
}
