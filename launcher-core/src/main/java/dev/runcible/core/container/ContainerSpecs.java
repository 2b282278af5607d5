package dev.runcible.core.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.api.ImageConfig;
import dev.runcible.api.PolicyViolationException;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.Limits;
import dev.runcible.core.runtime.RuntimeConfigBuilder;
import dev.runcible.core.runtime.RuntimeSpec;
import dev.runcible.core.runtime.UserIds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a container is to run, decided from its request, its image's config and the node's policy, with nothing
 * read or written: whether its user may be root, its argv and environment, the node's resolv.conf, hosts and
 * hostname bound first, then the request's binds, the node's default pids limit, and the runtime config.
 */
public final class ContainerSpecs {
    static final List<String> HOST_FILES = List.of("/etc/resolv.conf", "/etc/hosts", "/etc/hostname");

    private final boolean allowRoot;
    private final long defaultPids;
    private final Optional<JsonNode> seccomp;
    private final List<BindMount> hostFiles;
    private final long nofile;

    /**
     * @param allowRoot {@code runcible.allow-root}
     * @param defaultPids the pids limit of a container that asks for none (0: none)
     * @param seccomp the seccomp filter, or empty for none
     * @param hostFiles the node's files bound read-only into every container
     * @param nofile the container's RLIMIT_NOFILE
     */
    public ContainerSpecs(boolean allowRoot, long defaultPids, Optional<JsonNode> seccomp, List<BindMount> hostFiles,
            long nofile) {
        this.allowRoot = allowRoot;
        this.defaultPids = defaultPids;
        this.seccomp = seccomp;
        this.hostFiles = List.copyOf(hostFiles);
        this.nofile = nofile;
    }

    /** The node's resolv.conf, hosts and hostname, those that exist, bound read-only. */
    static List<BindMount> existingHostFiles() {
        List<BindMount> binds = new ArrayList<>();
        for (String hostFile : HOST_FILES) {
            if (Files.isRegularFile(Path.of(hostFile))) {
                binds.add(new BindMount(Path.of(hostFile), hostFile, true));
            }
        }
        return binds;
    }

    /**
     * The OCI runtime config of a container. {@code user} is its image's User or the request's, resolved;
     * {@code binds} are the request's, already checked against the bind policy.
     */
    public ObjectNode runtimeConfig(ContainerRecord record, ImageConfig config, RunRequest request, UserIds user,
            List<BindMount> binds) throws RuncibleException {
        if (user.uid() == 0 && !allowRoot) {
            throw new PolicyViolationException("Image '" + record.image() + "' would run as root (uid 0)"
                    + (request.user().isPresent() ? " as --user asks" : ", its default user")
                    + ", which runcible.allow-root forbids on this node; run it with --user UID[:GID]");
        }
        ProcessPlan plan = ProcessPlan.of(record.image(), config, request, user.home());
        List<BindMount> allBinds = new ArrayList<>(hostFiles);
        allBinds.addAll(binds);
        Limits limits = request.limits();
        if (limits.pids().isEmpty() && defaultPids > 0) {
            limits = new Limits(limits.memoryBytes(), limits.cpuPercent(), OptionalLong.of(defaultPids));
        }
        return RuntimeConfigBuilder.build(new RuntimeSpec(plan.args(), plan.env(), plan.cwd(), user, limits, allBinds,
                record.cgroupsPath(), nofile, seccomp, request.network(), request.options().cpuset()));
    }
}
