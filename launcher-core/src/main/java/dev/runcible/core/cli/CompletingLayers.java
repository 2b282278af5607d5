package dev.runcible.core.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.core.config.Sizes;
import dev.runcible.core.container.ContainerInfo;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.lazy.LazyLayers;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The lazy layers still being completed, as {@code ps} and {@code stats} show them beside containers. */
final class CompletingLayers {
    private final Map<String, LazyLayers.Progress> byHex;

    CompletingLayers(ContainerManager manager) {
        this.byHex = manager.layerMounts().lazy().progress().stream()
                .collect(Collectors.toMap(p -> p.layer().hex(), Function.identity()));
    }

    private List<LazyLayers.Progress> of(ContainerInfo container) {
        return container.record().layers().stream().map(byHex::get).filter(java.util.Objects::nonNull).toList();
    }

    /** {@code completingLayers}: the container's layers not yet whole on the node, with their progress. */
    void addTo(ObjectNode node, ContainerInfo container) {
        ArrayNode layers = node.putArray("completingLayers");
        for (LazyLayers.Progress progress : of(container)) {
            ObjectNode layer = layers.addObject();
            layer.put("layer", progress.layer().toString());
            layer.put("fetchedBytes", progress.fetchedBytes());
            layer.put("chunksPresent", progress.chunksPresent());
            layer.put("chunks", progress.chunks());
            layer.put("size", progress.size());
            layer.put("serverAlive", progress.serverAlive());
        }
    }

    /** One line per layer being completed that a listed container uses. */
    void print(List<ContainerInfo> containers, PrintStream out) {
        containers.stream().flatMap(c -> of(c).stream()).distinct().forEach(p -> out.println(String.format(
                Locale.ROOT, "layer %s: %d of %d chunks here (%s of %s fetched)%s", p.layer().shortHex(),
                p.chunksPresent(), p.chunks(), Sizes.format(p.fetchedBytes()), Sizes.format(p.size()),
                p.serverAlive() ? ", completing" : ", its server is gone: run 'runcible gc'")));
    }
}
