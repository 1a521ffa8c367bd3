"""Build hook: the wheel carries compiled translations (``.mo``) beside their ``.po``.

Everything else about the package is declared in ``pyproject.toml``. The ``.po`` files are
the only translations kept in git (``flask_twitsocket.i18n`` compiles them in memory at run
time, so a checkout never serves a stale binary); a wheel also gets the ``.mo`` files,
compiled here from exactly the ``.po`` it ships, for tools and packagers that read gettext
catalogues from disk. Babel is a build requirement (``[build-system] requires``).
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


def compile_catalogues(translations: Path) -> list[Path]:
    """Write ``<locale>/LC_MESSAGES/<domain>.mo`` next to each ``.po`` under ``translations``."""
    written = []
    for po_file in sorted(translations.glob("*/LC_MESSAGES/*.po")):
        with po_file.open("rb") as source:
            catalog = read_po(source, locale=po_file.parent.parent.name,
                              domain=po_file.stem)
        mo_file = po_file.with_suffix(".mo")
        with mo_file.open("wb") as out:
            write_mo(out, catalog)
        written.append(mo_file)
    return written


class BuildWithCatalogues(build_py):
    """``build_py``, then compile the copied ``.po`` files in the build tree (never in the
    source tree: an editable install keeps compiling in memory)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        translations = Path(self.build_lib) / "flask_twitsocket" / "translations"
        for mo_file in compile_catalogues(translations):
            self.announce(f"compiled {mo_file}", level=2)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        translations = Path(self.build_lib) / "flask_twitsocket" / "translations"
        return outputs + [str(mo) for mo in sorted(translations.glob("*/LC_MESSAGES/*.mo"))
                          if str(mo) not in outputs]


setup(cmdclass={"build_py": BuildWithCatalogues})
