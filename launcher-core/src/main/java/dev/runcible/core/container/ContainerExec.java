package dev.runcible.core.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.runcible.api.PolicyViolationException;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.config.AgentPolicy;
import dev.runcible.core.container.RunDirectory.ContainerFiles;
import dev.runcible.core.image.Json;
import dev.runcible.core.runtime.Runc;
import dev.runcible.core.runtime.UserIds;
import dev.runcible.core.runtime.UserResolver;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a process in a running container with {@code runc exec}, streaming its output and returning its exit code.
 * runc reports its own failures (no such command, a working directory that is missing) on the process's stderr
 * with exit status 255; those become docker's 126 and 127, as for {@code run}.
 */
final class ContainerExec {
    /** runc's exit status when it failed before the process ran. */
    private static final int RUNC_FAILED = 255;
    private final Runc runc;
    private final boolean allowRoot;
    private final AgentPolicy agent;

    ContainerExec(Runc runc, boolean allowRoot, AgentPolicy agent) {
        this.runc = runc;
        this.allowRoot = allowRoot;
        this.agent = agent;
    }

    int exec(Caller caller, ContainerInfo info, ContainerFiles files, ExecRequest request, OutputStream out,
            OutputStream err) throws RuncibleException {
        String name = info.record().name();
        if (request.command().isEmpty()) {
            throw new InvalidRequestException("No command to run in " + name + ": give it after the container");
        }
        if (info.state() != ContainerState.RUNNING) {
            throw new InvalidRequestException("Container " + name + " is " + info.state().display() + ", not "
                    + "running: exec needs a running container");
        }
        ProcessPlan.checkResolved(request.env());
        if (request.workdir().isPresent()) {
            RunOptions.NONE.withWorkdir(request.workdir().get()).check();
        }
        UserIds user = request.user().isPresent() ? UserResolver.resolve(files.rootfs(), request.user())
                : processUser(files);
        if (!caller.isRoot()) {
            agent.checkRunAs("exec in " + name, user.uid(), user.gid(), user.additionalGids());
        } else if (user.uid() == 0 && !allowRoot) {
            throw new PolicyViolationException("exec in " + name + " would run as root (uid 0), which "
                    + "runcible.allow-root forbids on this node; give --user UID[:GID]");
        }
        List<String> command = runc.execCommand(info.record().id(), user.uid(), user.gid(), user.additionalGids(),
                request.env(), request.workdir(), request.command());
        Process process;
        try {
            process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot run " + runc.binary() + " exec: " + e.getMessage(), e);
        }
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        Thread errors = new Thread(() -> copy(process.getErrorStream(), err, tail), "runcible-exec-stderr");
        errors.setDaemon(true);
        errors.start();
        copy(process.getInputStream(), out, null);
        try {
            errors.join();
            int code = process.waitFor();
            if (code == RUNC_FAILED) {
                String said = tail.toString(StandardCharsets.UTF_8);
                if (said.contains("exec failed") || said.contains("runc exec") || said.contains("level=error")) {
                    return RuncErrors.exitCode(said);
                }
            }
            return code;
        } catch (InterruptedException e) {
            process.destroy();
            Thread.currentThread().interrupt();
            throw new ContainerRuntimeException("Interrupted while running a process in " + name);
        }
    }

    /** The user the container's own process runs as, from its runtime config. */
    private static UserIds processUser(ContainerFiles files) throws ContainerRuntimeException {
        try {
            JsonNode user = Json.MAPPER.readTree(files.config().toFile()).path("process").path("user");
            List<Integer> groups = new ArrayList<>();
            user.path("additionalGids").forEach(gid -> groups.add(gid.asInt()));
            return new UserIds(user.path("uid").asInt(), user.path("gid").asInt(), groups, "/");
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot read " + files.config() + ": " + e.getMessage(), e);
        }
    }

    /** Copies a stream on; the last 4 KiB are kept in {@code tail} when it is given. */
    private static void copy(InputStream in, OutputStream out, ByteArrayOutputStream tail) {
        byte[] buffer = new byte[8192];
        try (in) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                try {
                    out.write(buffer, 0, n);
                    out.flush();
                } catch (IOException e) {
                    // the reader went; the process runs to its end
                }
                if (tail != null) {
                    synchronized (tail) {
                        if (tail.size() > 4096) {
                            tail.reset();
                        }
                        tail.write(buffer, 0, n);
                    }
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }
}
