package dev.runcible.core.cli;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageNotFoundException;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.TagRecord;
import dev.runcible.core.Runcible;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "tag", description = "Give an image in a store more names.")
final class TagCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--store", paramLabel = "URI", description = "Store (default: the configured local store).")
    String store;

    @Parameters(index = "0", paramLabel = "SOURCE")
    String source;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "NAME")
    List<String> names;

    @Override
    public Integer call() throws Exception {
        ImageReference sourceReference = ImageReference.parseStoreName(source);
        List<String> newNames = new ArrayList<>();
        for (String name : names) {
            newNames.add(ImageReference.parse(name).familiarName());
        }
        try (Runcible runcible = main.open();
                ImageStore target = runcible.openStore(StoreOption.resolve(runcible, store, "--store"))) {
            Digest manifest = find(target, sourceReference);
            target.tag(newNames, manifest);
            main.out().println("Tagged " + manifest.shortHex() + " as " + String.join(", ", newNames));
            return 0;
        }
    }

    static Digest find(ImageStore store, ImageReference reference) throws RuncibleException {
        return find(store.tags(), store, reference).manifest();
    }

    /** The name a store lists an image under (the most specific of its normalized forms), and its manifest. */
    static TagRecord find(List<TagRecord> tags, ImageStore store, ImageReference reference)
            throws ImageNotFoundException {
        for (String name : reference.storeNames()) {
            for (TagRecord record : tags) {
                if (record.names().contains(name)) {
                    return new TagRecord(List.of(name), record.manifest());
                }
            }
        }
        throw new ImageNotFoundException("No image '" + reference.familiarName() + "' in the store at "
                + store.location() + "; 'runcible images' lists the names");
    }
}
