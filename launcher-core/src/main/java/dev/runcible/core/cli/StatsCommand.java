package dev.runcible.core.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.core.Runcible;
import dev.runcible.core.cgroup.CgroupStats;
import dev.runcible.core.config.Sizes;
import dev.runcible.core.container.ContainerInfo;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.image.Json;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "stats", description = "Show a running container's memory, CPU and pids use (cgroup v1 or v2).")
final class StatsCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--json", description = "Print a JSON object.")
    boolean json;

    @Parameters(paramLabel = "ID|NAME")
    String container;

    @Override
    public Integer call() throws Exception {
        main.requireNode("stats");
        try (Runcible runcible = main.open()) {
            ContainerManager containers = main.containers(runcible);
            ContainerInfo info = containers.find(container);
            CgroupStats stats = containers.stats(container);
            if (json) {
                ObjectNode node = Json.MAPPER.createObjectNode();
                node.put("id", info.record().id());
                node.put("cgroup", stats.version());
                node.put("memoryBytes", stats.memoryBytes());
                stats.memoryLimit().ifPresentOrElse(l -> node.put("memoryLimit", l), () -> node.putNull("memoryLimit"));
                node.put("cpuNanos", stats.cpuNanos());
                node.put("pids", stats.pids());
                stats.pidsLimit().ifPresentOrElse(l -> node.put("pidsLimit", l), () -> node.putNull("pidsLimit"));
                new CompletingLayers(containers).addTo(node, info);
                main.out().println(Json.MAPPER.writeValueAsString(node));
                return 0;
            }
            Table.print(List.of(List.of("CONTAINER ID", "NAME", "MEM USAGE / LIMIT", "CPU TIME", "PIDS"),
                    List.of(info.record().shortId(), info.record().name(),
                            Sizes.format(stats.memoryBytes()) + " / " + (stats.memoryLimit().isPresent()
                                    ? Sizes.format(stats.memoryLimit().getAsLong()) : "unlimited"),
                            String.format(Locale.ROOT, "%.2f s", stats.cpuNanos() / 1e9),
                            stats.pids() + (stats.pidsLimit().isPresent() ? " / " + stats.pidsLimit().getAsLong()
                                    : ""))), main.out());
            new CompletingLayers(containers).print(List.of(info), main.out());
            return 0;
        }
    }
}
