import type { VmHandle } from "@solstice/vm-engine";
import type { JobStore } from "../persistence/job-store.ts";

/**
 * The engine's `onVm` hook for one job: keeps the `vms` table in step with the VM's life, so that
 * crash recovery knows what to clean up — `preparing` with its work directory and port once
 * prepared, `running` with QEMU's pid once started, `destroyed` once gone. Key material is never
 * written (the handle's credentials are not read here).
 *
 * A store failure is passed to `onError` and does not stop the job: the work directory lies under
 * the host's VM directory, which recovery scans anyway.
 */
export function vmRecordHook(fields: {
  readonly store: JobStore;
  readonly hostId: string;
  readonly requestId: string;
  readonly onError: (error: unknown, vmName: string) => void;
}): (vm: VmHandle) => Promise<void> {
  const { store } = fields;
  let recorded = false;
  return async (vm) => {
    try {
      switch (vm.state) {
        case "prepared":
          if (recorded) return;
          await store.recordVm({
            vmName: vm.name,
            requestId: fields.requestId,
            hostId: fields.hostId,
            workDir: vm.workDir,
            state: "preparing",
            sshPort: vm.sshPort,
            overlayPath: vm.overlayPath,
            seedPath: vm.seedPath,
          });
          recorded = true;
          return;
        case "running":
          if (!recorded) return;
          await store.updateVm(vm.name, { state: "running", pid: vm.pid ?? null, sshPort: vm.sshPort });
          return;
        case "stopped":
          if (recorded) await store.updateVm(vm.name, { pid: null });
          return;
        case "destroyed":
          if (recorded) await store.markVmDestroyed(vm.name);
          return;
      }
    } catch (error) {
      fields.onError(error, vm.name);
    }
  };
}
