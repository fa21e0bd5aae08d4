package jmlc.jupyter;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The architecture as rules over the main classes of every module (this module depends on all
 * of them): packages point one way, modules layer as compiler <- engine <- magics <- jupyter, and
 * backends plug in beside each other, not into each other (docs/ARCHITECTURE.md).
 */
class ArchitectureTest {
    static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("jmlc");

    @Test
    void importedEveryModule() {
        for (String p : new String[] {"jmlc.compiler.ir", "jmlc.engine.api", "jmlc.magics.core", "jmlc.jupyter"})
            assertTrue(MAIN.containPackage(p), "classes of " + p + " were imported");
    }

    /** Every package is its own slice: no two packages depend on each other, directly or around a loop. */
    @Test
    void noPackageCycles() {
        slices().matching("jmlc.(**)").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void modulesLayerOneWay() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("compiler").definedBy("jmlc.compiler..")
                .layer("engine").definedBy("jmlc.engine..")
                .layer("magics").definedBy("jmlc.magics..")
                .layer("jupyter").definedBy("jmlc.jupyter..")
                .whereLayer("jupyter").mayNotBeAccessedByAnyLayer()
                .whereLayer("magics").mayOnlyBeAccessedByLayers("jupyter")
                .whereLayer("engine").mayOnlyBeAccessedByLayers("magics", "jupyter")
                .check(MAIN);
    }

    /** The schedule rules build kernel IR for a target; how it is printed is the code generators' business. */
    @Test
    void scheduleRulesKnowNoCodeGenerator() {
        noClasses().that().resideInAPackage("jmlc.compiler.schedule..")
                .should().dependOnClassesThat().resideInAPackage("jmlc.compiler.codegen..")
                .check(MAIN);
    }

    /** Backends sit beside each other: none reaches into another, and the generic GPU runner into none. */
    @Test
    void backendsAreIndependent() {
        slices().matching("jmlc.engine.runtime.(*)..").should().notDependOnEachOther()
                .ignoreDependency(com.tngtech.archunit.base.DescribedPredicate.alwaysTrue(),
                        com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage("jmlc.engine.runtime.gpu"))
                .check(MAIN);
    }
}
