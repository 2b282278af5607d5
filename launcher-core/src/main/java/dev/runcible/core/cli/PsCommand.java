package dev.runcible.core.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.core.Runcible;
import dev.runcible.core.container.ContainerInfo;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.image.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "ps", description = "List containers (running ones unless --all).")
final class PsCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = {"-a", "--all"}, description = "Show all containers, exited ones too.")
    boolean all;

    @Option(names = "--json", description = "Print a JSON array.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        main.requireNode("ps");
        try (Runcible runcible = main.open()) {
            ContainerManager manager = main.containers(runcible);
            List<ContainerInfo> containers = manager.list().stream()
                    .filter(c -> all || c.isActive()).toList();
            CompletingLayers completing = new CompletingLayers(manager);
            if (json) {
                ArrayNode array = Json.MAPPER.createArrayNode();
                for (ContainerInfo c : containers) {
                    ObjectNode node = array.addObject();
                    node.put("id", c.record().id());
                    node.put("name", c.record().name());
                    node.put("image", c.record().image());
                    node.put("state", c.state().display());
                    if (c.exitCode().isPresent()) {
                        node.put("exitCode", c.exitCode().getAsInt());
                    } else {
                        node.putNull("exitCode");
                    }
                    node.put("created", c.record().created());
                    node.put("owner", c.record().owner());
                    // A scheduler asks whether every process is gone (a daemonized child outlives the exit).
                    node.put("processesGone", !c.isActive() && manager.processesGone(c.record().id()));
                    completing.addTo(node, c);
                }
                main.out().println(Json.MAPPER.writeValueAsString(array));
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("CONTAINER ID", "NAME", "IMAGE", "STATE", "EXIT CODE", "CREATED"));
            for (ContainerInfo c : containers) {
                rows.add(List.of(c.record().shortId(), c.record().name(), c.record().image(), c.state().display(),
                        c.exitCode().isPresent() ? Integer.toString(c.exitCode().getAsInt()) : "-",
                        c.record().created()));
            }
            Table.print(rows, main.out());
            completing.print(containers, main.out());
            return 0;
        }
    }
}
