package jmlc.magics;

import jmlc.magics.builtin.ClasspathMagic;
import jmlc.magics.builtin.HelpMagic;
import jmlc.magics.builtin.SessionMagic;
import jmlc.magics.builtin.TimeMagic;
import jmlc.magics.llm.BenchMagic;
import jmlc.magics.llm.ChatMagic;
import jmlc.magics.llm.DeviceMagic;
import jmlc.magics.llm.IrMagic;
import jmlc.magics.llm.KernelsMagic;
import jmlc.magics.llm.LoadMagic;
import jmlc.magics.llm.ReloadMagic;
import jmlc.magics.llm.ResetMagic;
import jmlc.magics.llm.SourceMagic;
import jmlc.magics.llm.StatsMagic;
import jmlc.magics.llm.TuneMagic;

import java.util.List;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicRegistry;

/** Every magic the jmlc kernel offers, in the order {@code %help} lists them. Add new magics here. */
public final class Magics {

    private Magics() {
    }

    public static List<Magic> all() {
        return List.of(
                new HelpMagic(),
                // models: find a device, load, chat, measure
                new DeviceMagic(),
                new LoadMagic(),
                new ReloadMagic(),
                new ChatMagic(),
                new ResetMagic(),
                new StatsMagic(),
                new BenchMagic(),
                // the compiler's view of the loaded model, and tuning its kernels
                new IrMagic(),
                new KernelsMagic(),
                new SourceMagic(),
                new TuneMagic(),
                // the notebook itself
                new TimeMagic(),
                new ClasspathMagic(),
                new SessionMagic());
    }

    public static MagicRegistry registry() {
        return new MagicRegistry(all());
    }
}
