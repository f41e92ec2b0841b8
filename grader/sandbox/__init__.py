"""Running student code apart from the grader: worker processes, their isolation and the wire between them."""
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def script(names: tuple, entry: str) -> str:
    """Source for `python -I -c`: these files of this folder, one after another, then `entry`.

    The worker and the fork server run from such text, so they never import
    the grader package (nor anything a student could have planted beside it).
    """
    folder = Path(__file__).parent
    return "\n".join((folder / name).read_text() for name in names) + f"\n{entry}\n"
