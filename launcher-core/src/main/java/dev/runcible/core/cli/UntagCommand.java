package dev.runcible.core.cli;

import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.api.TagRecord;
import dev.runcible.core.Runcible;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "untag", description = "Remove names from a store; 'gc --store' later removes what no name keeps.")
final class UntagCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--store", paramLabel = "URI", description = "Store (default: the configured local store).")
    String store;

    @Parameters(arity = "1..*", paramLabel = "NAME")
    List<String> names;

    @Override
    public Integer call() throws Exception {
        try (Runcible runcible = main.open();
                ImageStore target = runcible.openStore(StoreOption.resolve(runcible, store, "--store"))) {
            List<String> stored = new ArrayList<>();
            List<TagRecord> tags = target.tags();
            for (String name : names) {
                stored.add(TagCommand.find(tags, target, ImageReference.parseStoreName(name)).names().get(0));
            }
            main.out().println("Untagged " + String.join(", ", target.untag(stored)));
            return 0;
        }
    }
}
