Document Type: IPF
item: Global
  Version=6.0
  Title English=Norton AntiVirus 4.0 for Windows NT
  Flags=00001000
  Languages=0 0 65 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
  LanguagesList=English
  Default Language=2
  Japanese Font Name=MS Gothic
  Japanese Font Size=10
  Start Gradient=255 255 0
  End Gradient=0 0 0
  Windows Flags=00010100000000000010110000011000
  Log Pathname=%MAINDIR%\INSTALL.LOG
  Message Font=MS Sans Serif
  Font Size=8
  Disk Filename=SETUP
  Patch Flags=0000000000000001
  Patch Threshold=85
  Patch Memory=4000
  File Version=4.0
  File Description=Norton AntiVirus 4.0 for Windows NT (repackaged)
  Company Name=Symantec Corporation
  Internal Name=NAVNT40
  Original FileName=NAVNT40.EXE
  Product Name=Norton AntiVirus for Windows NT
  Product Version=4.0
  FTP Cluster Size=20
  Variable Name1=_SYS_
  Variable Default1=C:\WINNT\System32
  Variable Flags1=00001000
  Variable Name2=_SMSINSTL_
  Variable Default2=C:\Program Files\Microsoft SMS Installer
  Variable Flags2=00001000
end
item: Remark
  Text=Norton AntiVirus 4.0 for Windows NT Workstation
end
item: Remark
  Text=Copyright © 1991-1998 Symantec Corporation. Norton AntiVirus® is a registered trademark.
end
item: Remark
  Text=Repackaged on NAVREF01 (NT 4.0 SP3) with the SMS Installer Repackage Installation Wizard.
end
item: Remark
end
item: Open/Close INSTALL.LOG
  Flags=00000001
end
item: Check if File/Dir Exists
  Pathname=%SYS%
  Flags=10000100
end
item: Set Variable
  Variable=SYS
  Value=%WIN%
end
item: End Block
end
item: Set Variable
  Variable=APPTITLE
  Value=Norton AntiVirus 4.0
  Flags=10000000
end
item: Set Variable
  Variable=GROUP
  Value=Norton AntiVirus
  Flags=10000000
end
item: Set Variable
  Variable=MAINDIR
  Value=NAVNT
  Flags=10000000
end
item: Get Registry Key Value
  Variable=PROGRAM_FILES
  Key=SOFTWARE\Microsoft\Windows\CurrentVersion
  Default=C:\Program Files
  Value Name=ProgramFilesDir
  Flags=00000100
end
item: Set Variable
  Variable=MAINDIR
  Value=%PROGRAM_FILES%\%MAINDIR%
  Flags=00001100
end
item: Win32 System Directory
  Variable=SYS32
end
item: Get Registry Key Value
  Variable=OSVER
  Key=SOFTWARE\Microsoft\Windows NT\CurrentVersion
  Default=0
  Value Name=CurrentVersion
  Flags=00000100
end
item: If/While Statement
  Variable=OSVER
  Value=3.51
end
item: Exit Installation
end
item: End Block
end
item: Get Registry Key Value
  Variable=SEVINST
  Key=SYSTEM\CurrentControlSet\Services\SYMEVENT
  Default=NONE
  Value Name=ImagePath
  Flags=00000100
end
item: Set Variable
  Variable=APSTARTUP
  Value=1
end
item: Remark
end
item: Remark
  Text=Program files
end
item: Install File
  Source=C:\NAVPKG\FILES\PROGRAM FILES\NAVNT\NAVWNT.EXE
  Destination=%MAINDIR%\NAVWNT.EXE
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\PROGRAM FILES\NAVNT\NAVAPSVC.EXE
  Destination=%MAINDIR%\NAVAPSVC.EXE
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\PROGRAM FILES\NAVNT\NAVAPW32.EXE
  Destination=%MAINDIR%\NAVAPW32.EXE
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\PROGRAM FILES\NAVNT\NAVINSTNT.DLL
  Destination=%MAINDIR%\NAVINSTNT.DLL
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\PROGRAM FILES\NAVNT\VIRSCAN.DAT
  Destination=%MAINDIR%\VIRSCAN.DAT
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\PROGRAM FILES\NAVNT\NAVNT.HLP
  Destination=%MAINDIR%\NAVNT.HLP
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\PROGRAM FILES\NAVNT\UNINST.EXE
  Destination=%MAINDIR%\UNINST.EXE
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\WINNT\SYSTEM32\NAVEVENT.DLL
  Destination=%SYS32%\NAVEVENT.DLL
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\WINNT\SYSTEM32\DRIVERS\NAVAP.SYS
  Destination=%SYS32%\Drivers\NAVAP.SYS
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\WINNT\SYSTEM32\DRIVERS\NAVENG.SYS
  Destination=%SYS32%\Drivers\NAVENG.SYS
  Flags=0000000000000010
end
item: Install File
  Source=C:\NAVPKG\FILES\WINNT\SYSTEM32\DRIVERS\NAVEX15.SYS
  Destination=%SYS32%\Drivers\NAVEX15.SYS
  Flags=0000000000000010
end
item: If/While Statement
  Variable=SEVINST
  Value=NONE
end
item: Install File
  Source=C:\NAVPKG\FILES\WINNT\SYSTEM32\DRIVERS\SYMEVENT.SYS
  Destination=%SYS32%\Drivers\SYMEVENT.SYS
  Flags=0000000000000010
end
item: End Block
end
item: Remark
end
item: Remark
  Text=Registry - application settings (captured)
end
item: Edit Registry
  Total Keys=3
  item: Key
    Key=SOFTWARE\Symantec\Norton AntiVirus NT
    New Value=4.0
    Value Name=Version
    Root=2
  end
  item: Key
    Key=SOFTWARE\Symantec\Norton AntiVirus NT
    New Value=%MAINDIR%
    Value Name=InstallDir
    Root=2
  end
  item: Key
    Key=SOFTWARE\Symantec\Norton AntiVirus NT
    New Value=Norton AntiVirus
    Value Name=Name
    Root=2
  end
end
item: Edit Registry
  Total Keys=5
  item: Key
    Key=SOFTWARE\Symantec\Norton AntiVirus NT\Auto-Protect
    New Value=1
    Value Name=ScanOnExecute
    Root=2
    Data Type=3
  end
  item: Key
    Key=SOFTWARE\Symantec\Norton AntiVirus NT\Auto-Protect
    New Value=1
    Value Name=ScanOnOpen
    Root=2
    Data Type=3
  end
  item: Key
    Key=SOFTWARE\Symantec\Norton AntiVirus NT\Auto-Protect
    New Value=1
    Value Name=ScanOnCreate
    Root=2
    Data Type=3
  end
  item: Key
    Key=SOFTWARE\Symantec\Norton AntiVirus NT\Auto-Protect
    New Value=1
    Value Name=ScanFloppyBootOnShutdown
    Root=2
    Data Type=3
  end
  item: Key
    Key=SOFTWARE\Symantec\Norton AntiVirus NT\Auto-Protect
    New Value=EXE
    New Value=COM
    New Value=DO?
    New Value=XL?
    New Value=SYS
    New Value=BIN
    New Value=OV?
    New Value=DLL
    New Value=
    Value Name=Extensions
    Root=2
    Data Type=2
  end
end
item: Edit Registry
  Total Keys=1
  Key=SOFTWARE\Symantec\InstalledApps
  New Value=%MAINDIR%\
  Value Name=NAVNT
  Root=2
end
item: Edit Registry
  Total Keys=2
  item: Key
    Key=SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\Norton AntiVirus NT
    New Value=Norton AntiVirus for Windows NT
    Value Name=DisplayName
    Root=2
  end
  item: Key
    Key=SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\Norton AntiVirus NT
    New Value=%MAINDIR%\UNINST.EXE /NAVNT
    Value Name=UninstallString
    Root=2
  end
end
item: Edit Registry
  Key=SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\NAVWNT.EXE
  New Value=%MAINDIR%\NAVWNT.EXE
  Root=2
end
item: Edit Registry
  Total Keys=1
  Key=SOFTWARE\Microsoft\Windows\CurrentVersion\Run
  New Value=C:\PROGRA~1\NAVNT\NAVAPW32.EXE /LOADQUIET
  Value Name=Norton Auto-Protect
  Root=194
end
item: Remark
end
item: Remark
  Text=Registry - services (captured)
end
item: Edit Registry
  Key=SYSTEM\CurrentControlSet\Services\SYMEVENT
  New Value=SYMEVENT
  Value Name=DisplayName
  Root=2
end
item: Edit Registry
  Key=SYSTEM\CurrentControlSet\Services\NAVAP
  New Value=Filter
  Value Name=Group
  Root=2
end
item: Edit Registry
  Key=SYSTEM\CurrentControlSet\Services\NAVAP
  New Value=3
  Value Name=Tag
  Root=2
  Data Type=3
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Services\NAVAP
  New Value=1
  Value Name=Start
  Root=2
  Data Type=3
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Services\NAVAP
  Value Name=DependOnGroup
  Root=194
end
item: Remark
end
item: Remark
  Text=Services - created here instead of by the captured keys (Q192868)
end
item: Create Service
  Service Name=SYMEVENT
  Executable Path=%SYS32%\Drivers\SYMEVENT.SYS
  Service Type=1
  Boot Type=1
  Error Type=1
  Display Name English=SYMEVENT
end
item: Create Service
  Service Name=NAVAP
  Executable Path=%SYS32%\Drivers\NAVAP.SYS
  Service Type=1
  Boot Type=3
  Error Type=1
  Display Name English=NAVAP
end
item: Create Service
  Service Name=NAVAPSVC
  Executable Path=%MAINDIR%\NAVAPSVC.EXE
  Service Type=16
  Boot Type=2
  Display Name English=Norton AntiVirus Auto-Protect Service
end
item: Edit Registry
  Total Keys=4
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\SYMEVENT
    New Value=1
    Value Name=Type
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\SYMEVENT
    New Value=1
    Value Name=Start
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\SYMEVENT
    New Value=1
    Value Name=ErrorControl
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\SYMEVENT
    New Value=System32\Drivers\SYMEVENT.SYS
    Value Name=ImagePath
    Root=2
    Data Type=1
  end
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Services\SYMEVENT\Security
  New Value=01001480C8000000D8000000140000003000000002001C000100000002801400FF010F00010100000000000100000000020098000600000000001400FD01020001010000000000051200000000001800FF010F0001020000000000052000000020020000000014008D010200010100000000000504000000000014008D01020001010000000000050600000000001800FD0102000102000000000005200000002302000000002400FF010F00010500000000000515000000CD7C4166C127393707E53B2BEC03000001020000000000052000000020020000010100000000000512000000
  Value Name=Security
  Root=2
  Data Type=4
end
breakpoint item: Edit Registry
  Total Keys=3
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\SYMEVENT\Enum
    New Value=Root\LEGACY_SYMEVENT\0000
    Value Name=0
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\SYMEVENT\Enum
    New Value=1
    Value Name=Count
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\SYMEVENT\Enum
    New Value=1
    Value Name=NextInstance
    Root=2
    Data Type=3
  end
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_SYMEVENT
  New Value=1
  Value Name=NextInstance
  Root=2
  Data Type=3
end
item: Edit Registry
  Total Keys=6
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_SYMEVENT\0000
    New Value=SYMEVENT
    Value Name=Service
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_SYMEVENT\0000
    New Value=1
    Value Name=Legacy
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_SYMEVENT\0000
    New Value=0
    Value Name=ConfigFlags
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_SYMEVENT\0000
    New Value=LegacyDriver
    Value Name=Class
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_SYMEVENT\0000
    New Value={8ECC055D-047F-11D1-A537-0000F8753ED1}
    Value Name=ClassGUID
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_SYMEVENT\0000
    New Value=SYMEVENT
    Value Name=DeviceDesc
    Root=2
  end
end
item: Edit Registry
  Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_SYMEVENT\0000\Control
  New Value=SYMEVENT
  Value Name=ActiveService
  Root=2
end
item: Edit Registry
  Total Keys=4
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP
    New Value=1
    Value Name=Type
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP
    New Value=1
    Value Name=ErrorControl
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP
    New Value=%SystemRoot%\System32\drivers\NAVAP.sys
    Value Name=ImagePath
    Root=2
    Data Type=1
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP
    New Value=Norton AntiVirus Auto-Protect Driver
    Value Name=DisplayName
    Root=2
  end
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Services\NAVAP\Security
  New Value=01001480B0000000C0000000140000003000000002001C000100000002801400FF010F00010100000000000100000000020080000500000000001400FD01020001010000000000051200000000001800FF010F0001020000000000052000000020020000000014008D010200010100000000000504000000000014008D01020001010000000000050600000000002400FF010F00010500000000000515000000CD7C4166C127393707E53B2BEC03000001020000000000052000000020020000010100000000000512000000
  Value Name=Security
  Root=2
  Data Type=4
end
item: If/While Statement
  Variable=APSTARTUP
  Value=1
end
item: Edit Registry
  Total Keys=4
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP\Parameters
    New Value=1
    Value Name=ScanOnAccess
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP\Parameters
    New Value=%MAINDIR%\VIRUSDEF
    Value Name=DefinitionsDir
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP\Parameters
    New Value=%SYS32%\CONFIG\*.*
    New Value=%SYS32%\*.LOG
    New Value=
    Value Name=ExcludeList
    Root=2
    Data Type=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP\Parameters
    New Value=256
    Value Name=CacheSize
    Root=2
    Data Type=3
  end
end
item: Edit Registry
  Total Keys=3
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP\Enum
    New Value=Root\LEGACY_NAVAP\0000
    Value Name=0
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP\Enum
    New Value=1
    Value Name=Count
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAP\Enum
    New Value=1
    Value Name=NextInstance
    Root=2
    Data Type=3
  end
end
item: End Block
end
item: Edit Registry
  Total Keys=6
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_NAVAP\0000
    New Value=NAVAP
    Value Name=Service
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_NAVAP\0000
    New Value=1
    Value Name=Legacy
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_NAVAP\0000
    New Value=LegacyDriver
    Value Name=Class
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_NAVAP\0000
    New Value={8ECC055D-047F-11D1-A537-0000F8753ED1}
    Value Name=ClassGUID
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_NAVAP\0000
    New Value=NAVAP
    Value Name=DeviceDesc
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_NAVAP\0000\Control
    New Value=NAVAP
    Value Name=ActiveService
    Root=2
  end
end
item: Edit Registry
  Total Keys=8
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC
    New Value=16
    Value Name=Type
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC
    New Value=2
    Value Name=Start
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC
    New Value=1
    Value Name=ErrorControl
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC
    New Value=%MAINDIR%\NAVAPSVC.EXE
    Value Name=ImagePath
    Root=2
    Data Type=1
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC
    New Value=Norton AntiVirus Auto-Protect Service
    Value Name=DisplayName
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC
    New Value=LocalSystem
    Value Name=ObjectName
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC
    New Value=Loads Norton AntiVirus® Auto-Protect and scans files as they are used.
    Value Name=Description
    Root=2
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC
    New Value=SYMEVENT
    New Value=NAVAP
    New Value=
    Value Name=DependOnService
    Root=2
    Data Type=2
  end
end
remarked item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Services\NAVAPSVC\Security
  New Value=01001480A4000000B4000000140000003000000002001C000100000002801400FF010F00010100000000000100000000020074000500000000001400FD01020001010000000000051200000000001800FF010F0001020000000000052000000020020000000014008D010200010100000000000504000000000014008D01020001010000000000050600000000001800FD0102000102000000000005200000002302000001020000000000052000000020020000010100000000000512000000
  Value Name=Security
  Root=2
  Data Type=4
end
item: Edit Registry
  Total Keys=2
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\EventLog\Application\Norton AntiVirus
    New Value=%SystemRoot%\System32\NAVEVENT.DLL
    Value Name=EventMessageFile
    Root=2
    Data Type=1
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\EventLog\Application\Norton AntiVirus
    New Value=7
    Value Name=TypesSupported
    Root=2
    Data Type=3
  end
end
item: Edit Registry
  Total Keys=5
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVENG
    New Value=1
    Value Name=Type
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVENG
    New Value=3
    Value Name=Start
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVENG
    New Value=1
    Value Name=ErrorControl
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVENG
    New Value=\SystemRoot\System32\Drivers\NAVENG.SYS
    Value Name=ImagePath
    Root=2
    Data Type=1
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\NAVENG
    New Value=NAVENG
    Value Name=DisplayName
    Root=2
  end
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\CurrentControlSet\Enum\Root\LEGACY_NAVAPNT
  Root=130
end
item: Remark
end
item: Remark
  Text=Registry - ControlSet001 (captured)
end
item: Edit Registry
  Total Keys=4
  item: Key
    Key=SYSTEM\ControlSet001\Services\SYMEVENT
    New Value=1
    Value Name=Type
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\ControlSet001\Services\SYMEVENT
    New Value=1
    Value Name=Start
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\ControlSet001\Services\SYMEVENT
    New Value=1
    Value Name=ErrorControl
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\ControlSet001\Services\SYMEVENT
    New Value=System32\Drivers\SYMEVENT.SYS
    Value Name=ImagePath
    Root=2
    Data Type=1
  end
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\ControlSet001\Services\SYMEVENT\Security
  New Value=01001480C8000000D8000000140000003000000002001C000100000002801400FF010F00010100000000000100000000020098000600000000001400FD01020001010000000000051200000000001800FF010F0001020000000000052000000020020000000014008D010200010100000000000504000000000014008D01020001010000000000050600000000001800FD0102000102000000000005200000002302000000002400FF010F00010500000000000515000000CD7C4166C127393707E53B2BEC03000001020000000000052000000020020000010100000000000512000000
  Value Name=Security
  Root=2
  Data Type=4
end
item: Edit Registry
  Total Keys=1
  Key=SYSTEM\ControlSet001\Services\SYMEVENT\Parameters
  New Value=4.03.01
  Value Name=Version
  Root=2
end
item: Edit Registry
  Total Keys=2
  item: Key
    Key=SYSTEM\ControlSet001\Services\EventLog\System\SYMEVENT
    New Value=%SystemRoot%\System32\IoLogMsg.dll
    Value Name=EventMessageFile
    Root=2
    Data Type=1
  end
  item: Key
    Key=SYSTEM\ControlSet001\Services\EventLog\System\SYMEVENT
    New Value=7
    Value Name=TypesSupported
    Root=2
    Data Type=3
  end
end
item: Remark
end
item: Start/Stop Service
  Service Name=NAVAPSVC
end
item: Set Variable
  Variable=RESTART
  Value=S
end
item: New Event
  Name=Cancel
end
item: Include Script
  Pathname=%_SMSINSTL_%\Include\rollback.ipf
end
