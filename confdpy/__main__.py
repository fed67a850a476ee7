"""`python -m confdpy` / the `confdpy` console script."""
from confdpy.cli import main

if __name__ == "__main__":
    main()
