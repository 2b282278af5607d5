package dev.runcible.core.runtime;

import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.host.Commands;
import dev.runcible.core.host.Executables;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Drives runc (or a drop-in such as crun) with its own state root.
 *
 * <p>A container is started under a <em>shim</em>: a bash in its own session that runs {@code runc run} in the
 * foreground and writes runc's exit status (the container's exit code, 128+N after signal N) to {@code exit-code}
 * when it returns. A detached {@code runc run -d} would hand the container to PID 1 and its exit status would be
 * lost; here runc stays the container's parent and the shim stays runc's, while neither depends on the launcher
 * process, which may exit or be killed. Container output goes to files, never to a pipe the launcher holds.
 */
public final class Runc {
    static final String SHIM_SCRIPT = String.join("\n",
            "dir=$1; shift",
            "hook=${RUNCIBLE_ON_EXIT-}; event=${RUNCIBLE_EVENT-}; unset RUNCIBLE_ON_EXIT RUNCIBLE_EVENT",
            // The logs and the exit code are the launcher's alone (0600); runc keeps the usual umask, since the
            // cgroup directories it makes must stay readable by the container's own user.
            "umask 077",
            ": >\"$dir/stdout.log\"; : >\"$dir/stderr.log\"",
            "umask 022",
            "\"$@\" </dev/null >\"$dir/stdout.log\" 2>\"$dir/stderr.log\"",
            "code=$?",
            "umask 077",
            // After runc, only built-ins: every program started here would delay the exit by a process start.
            // The code is one write of a few bytes, so a reader finds no file, an empty one (not written yet) or
            // the whole code.
            "printf '%s\\n' \"$code\" >\"$dir/exit-code\"",
            // The exit event: one line, one write, appended to the run directory's event log; its time is bash's
            // clock in microseconds.
            "if [ -n \"$event\" ]; then",
            "  now=$EPOCHREALTIME",
            "  TZ=UTC0 printf -v stamp '%(%Y-%m-%dT%H:%M:%S)T' \"${now%[.,]*}\"",
            "  printf '{\"time\":\"%s.%sZ\",\"type\":\"exited\",%s,\"exitCode\":%s}\\n' \"$stamp\" \"${now#*[.,]}\" \\",
            "    \"$event\" \"$code\" >>\"$dir/../../events\"",
            "fi",
            // A launcher waiting on the container (pid and start time in 'attached') handles its exit itself;
            // otherwise the hook releases its mounts, or removes it for --rm.
            "[ -n \"$hook\" ] || exit 0",
            "if { read -r pid start <\"$dir/attached\"; } 2>/dev/null \\",
            "  && { read -r stat <\"/proc/$pid/stat\"; } 2>/dev/null; then",
            "  set -- ${stat##*) }",
            "  [ \"$1\" != Z ] && [ \"${20}\" = \"$start\" ] && exit 0",
            "fi",
            "eval \"$hook\"",
            "");
    private static final long TIMEOUT_SECONDS = 30;

    private final Path binary;
    private final Path stateRoot;

    private Runc(Path binary, Path stateRoot) {
        this.binary = binary;
        this.stateRoot = stateRoot;
    }

    public static Runc locate(String configured, Path stateRoot) throws ContainerRuntimeException {
        Path binary = Executables.find(configured).orElseThrow(() -> new ContainerRuntimeException(
                "runc binary '" + configured + "' not found (runcible.runc.binary); install it with "
                        + "'apt-get install runc' or set runcible.runc.binary to its path"));
        return new Runc(binary, stateRoot);
    }

    public Path binary() {
        return binary;
    }

    /**
     * Starts the shim for a prepared bundle; the returned process is the shim. {@code onExit} (a shell command line,
     * or empty) runs after the exit code is written, unless the launcher named in the bundle's {@code attached} file
     * still lives. {@code event} (JSON members, or empty) goes into the exit event the shim appends to the run
     * directory's {@code events}.
     */
    public Process start(Bundle files, String id, String onExit, String event) throws ContainerRuntimeException {
        Path setsid = Executables.find("setsid").orElseThrow(() -> new ContainerRuntimeException(
                "'setsid' not found; install util-linux"));
        Path bash = Executables.find("bash").orElseThrow(() -> new ContainerRuntimeException(
                "'bash' not found; install bash"));
        List<String> command = List.of(setsid.toString(), bash.toString(), "-c", SHIM_SCRIPT, "runcible-shim",
                files.dir().toString(), binary.toString(), "--root", stateRoot.toString(), "run", "--bundle",
                files.dir().toString(), "--pid-file", files.pidFile().toString(), id);
        try {
            Files.createDirectories(stateRoot);
            if (!Files.exists(files.shimLog())) {
                Files.createFile(files.shimLog(), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            }
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.environment().remove("BASH_ENV"); // a non-interactive bash would read that file first
            // setsid, bash and runc print nothing a person reads: the C locale spares each of them a dozen locale
            // files at start. The container's own environment comes from its config, not from here.
            builder.environment().put("LC_ALL", "C");
            builder.environment().put("RUNCIBLE_ON_EXIT", onExit);
            builder.environment().put("RUNCIBLE_EVENT", event);
            return builder
                    .directory(files.dir().toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(files.shimLog().toFile()))
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot start the container supervisor: " + e.getMessage(), e);
        }
    }

    /**
     * {@code runc exec} of a process in a running container, in the foreground (it exits with the process's code):
     * the process joins the container's namespaces and cgroup and gets its seccomp filter, capabilities, rlimits and
     * noNewPrivileges from the container's config.
     */
    public List<String> execCommand(String id, int uid, int gid, List<Integer> groups, List<String> env,
            java.util.Optional<String> cwd, List<String> command) {
        List<String> line = new java.util.ArrayList<>(List.of(binary.toString(), "--root", stateRoot.toString(), "exec",
                "--user", uid + ":" + gid));
        for (int group : groups) {
            line.addAll(List.of("--additional-gids", Integer.toString(group)));
        }
        for (String entry : env) {
            line.addAll(List.of("--env", entry));
        }
        cwd.ifPresent(dir -> line.addAll(List.of("--cwd", dir)));
        line.add(id);
        line.addAll(command);
        return line;
    }

    public void kill(String id, String signal) throws ContainerRuntimeException {
        Commands.Result result = run(List.of("kill", id, signal));
        if (!result.ok()) {
            throw new ContainerRuntimeException("Cannot send " + signal + " to container " + id + ": "
                    + result.message());
        }
    }

    /** Whether runc still has state for the container (runc run removes it when the container exits). */
    public boolean hasState(String id) {
        return Files.exists(stateRoot.resolve(id));
    }

    /** Deletes runc's state and cgroup for the container, forcibly; a container runc does not know is fine. */
    public void delete(String id) throws ContainerRuntimeException {
        if (!hasState(id)) {
            return;
        }
        Commands.Result result = run(List.of("delete", "--force", id));
        // runc delete has been seen to answer 0 and leave its state behind: check, and say so.
        if (!result.ok() && hasState(id)) {
            throw new ContainerRuntimeException("Cannot delete container " + id + " from runc: " + result.message());
        }
    }

    private Commands.Result run(List<String> args) throws ContainerRuntimeException {
        List<String> command = new java.util.ArrayList<>(List.of(binary.toString(), "--root", stateRoot.toString()));
        command.addAll(args);
        try {
            return Commands.run(command, TIMEOUT_SECONDS);
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot run " + binary + ": " + e.getMessage(), e);
        }
    }
}
