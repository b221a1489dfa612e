from inavd.cli import main

raise SystemExit(main())
