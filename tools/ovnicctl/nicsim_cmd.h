/* ovnicctl: the "nicsim" command, which drives a simulated NIC (ovnic-nicsim) through
 * its control socket:
 *
 *   ovnicctl nicsim [--socket PATH] status|ports|rules|stats|caps|flush
 *   ovnicctl nicsim [--socket PATH] fault set KIND ARGS... | fault clear | fault list
 *   ovnicctl nicsim [--socket PATH] flash info|read|write|erase|boot|reboot|confirm|
 *                                         power-cycle ...
 *   ovnicctl nicsim [--socket PATH] sriov NUMVFS
 *   ovnicctl nicsim [--socket PATH] call METHOD [JSON-OBJECT]
 *
 * The command object is declared in ovnicctl.h (ovnicctl_nicsim_command). */
#ifndef OVNICCTL_NICSIM_CMD_H
#define OVNICCTL_NICSIM_CMD_H 1

/** Default control socket when neither --socket nor $OVNIC_NICSIM_SOCKET is set. */
#define OVNICCTL_NICSIM_DEFAULT_SOCKET "/var/run/ovnic/nicsim.ctl"

#endif /* OVNICCTL_NICSIM_CMD_H */
