package dev.runcible.core.container;

import dev.runcible.api.PolicyViolationException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.host.Commands;
import dev.runcible.core.host.Executables;
import dev.runcible.core.host.HostUsers;
import dev.runcible.core.runtime.BindMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether a caller of the agent other than root can itself read (for {@code :ro}) or read and write (for
 * {@code :rw}) what it asks to bind, judged by the kernel with the caller's own credentials: a check runs as the
 * caller's uid, gid and groups ({@code setpriv}), so search permission on every directory above, ACLs and
 * read-only file systems all count, and the agent never lends root's access to a caller.
 *
 * <p>The check also reports the device and inode it judged; they must be those of the path the agent resolved,
 * so a path swapped between the agent's resolution and the check is refused.
 */
final class PeerAccess {
    static final String CHECK = String.join("\n",
            "p=$1",
            "[ -r \"$p\" ] || { echo 'it cannot read it'; exit 3; }",
            "[ ! -d \"$p\" ] || [ -x \"$p\" ] || { echo 'it cannot enter it'; exit 3; }",
            "[ \"$2\" = ro ] || [ -w \"$p\" ] || { echo 'it cannot write to it'; exit 3; }",
            "exec stat -L -c %d:%i -- \"$p\"",
            "");
    private static final long TIMEOUT_SECONDS = 10;

    private PeerAccess() {
    }

    /** Refuses the first bind (sources already resolved to real paths) the caller cannot use with its own rights. */
    static void check(Caller caller, List<BindMount> binds) throws PolicyViolationException,
            ContainerRuntimeException {
        if (caller.isRoot() || binds.isEmpty()) {
            return;
        }
        Path setpriv = Executables.find("setpriv").orElseThrow(() -> new ContainerRuntimeException(
                "'setpriv' not found; install util-linux (it checks a caller's access to its bind mounts)"));
        boolean named = HostUsers.user(caller.name()).map(user -> user.uid() == caller.uid()).orElse(false);
        for (BindMount bind : binds) {
            List<String> command = new ArrayList<>(List.of(setpriv.toString(), "--reuid=" + caller.uid(),
                    "--regid=" + caller.gid(), named ? "--init-groups" : "--clear-groups", "--", "/bin/sh", "-c",
                    CHECK, "runcible-access", bind.source().toString(), bind.readOnly() ? "ro" : "rw"));
            Commands.Result result;
            String expected;
            try {
                result = Commands.run(command, TIMEOUT_SECONDS);
                expected = Files.getAttribute(bind.source(), "unix:dev", LinkOption.NOFOLLOW_LINKS) + ":"
                        + Files.getAttribute(bind.source(), "unix:ino", LinkOption.NOFOLLOW_LINKS);
            } catch (IOException e) {
                throw new ContainerRuntimeException("Cannot check " + caller.name() + "'s access to "
                        + bind.source() + ": " + e.getMessage(), e);
            }
            if (!result.ok()) {
                throw new PolicyViolationException("Bind mount source " + bind.source() + " is refused: "
                        + caller.name() + " (uid " + caller.uid() + ") asked for it "
                        + (bind.readOnly() ? ":ro" : ":rw")
                        + " but " + result.stdout().strip() + " with its own rights; the agent binds only what its "
                        + "caller could open itself");
            }
            if (!result.stdout().strip().equals(expected)) {
                throw new PolicyViolationException("Bind mount source " + bind.source() + " changed while it was "
                        + "checked; try again, and do not replace it meanwhile");
            }
        }
    }
}
